"""Choosing the real servers a test session uses: environment URLs, else testcontainers, else local servers.

1. CASEFOLD_TEST_DATABASE_URL / CASEFOLD_TEST_KAFKA_BOOTSTRAP (or DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS): use them,
   start nothing (a developer's running stack, or CI's own services).
2. A Docker engine that answers a ping: testcontainers.
3. Otherwise: casefold_local starts a private PostgreSQL and Kafka on free ports in a temporary folder.
Whatever was started here is stopped by close(), on failure too.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from casefold_local import KafkaServer, PostgresServer
from casefold_local.procs import free_port


def _env(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def docker_available() -> bool:
    """True only when a Docker engine answers a ping (a docker client alone is not enough)."""
    if os.environ.get("CASEFOLD_TEST_NO_DOCKER"):
        return False
    try:
        import docker

        client = docker.from_env(timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


class TestInfrastructure:
    """Lazily starts what the session asks for; close() stops it all."""

    def __init__(self) -> None:
        self._cleanups: list[Callable[[], None]] = []
        self._postgres: str | None = None
        self._kafka: str | None = None
        self._root: Path | None = None
        self._docker: bool | None = None

    def _workdir(self) -> Path:
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="casefold-test-"))
            root = self._root
            self._cleanups.append(lambda: shutil.rmtree(root, ignore_errors=True))
        return self._root

    def _use_docker(self) -> bool:
        if self._docker is None:
            self._docker = docker_available()
        return self._docker

    def postgres_dsn(self) -> str:
        """A superuser DSN (database 'postgres') of a server this session may create databases on."""
        if self._postgres is None:
            self._postgres = self._start_postgres()
        return self._postgres

    def kafka_bootstrap(self) -> str:
        if self._kafka is None:
            self._kafka = self._start_kafka()
        return self._kafka

    def _start_postgres(self) -> str:
        url = _env("CASEFOLD_TEST_DATABASE_URL", "DATABASE_URL")
        if url:
            return url
        if self._use_docker():
            from testcontainers.postgres import PostgresContainer

            container: Any = PostgresContainer("postgres:18", driver=None).start()
            self._cleanups.append(container.stop)
            return str(container.get_connection_url())
        server = PostgresServer(self._workdir() / "postgres", port=free_port(), fast=True)
        self._cleanups.append(server.stop)
        server.start()
        return server.dsn()

    def _start_kafka(self) -> str:
        url = _env("CASEFOLD_TEST_KAFKA_BOOTSTRAP", "KAFKA_BOOTSTRAP_SERVERS")
        if url:
            return url
        if self._use_docker():
            from testcontainers.kafka import KafkaContainer

            container: Any = KafkaContainer().with_kraft().start()
            self._cleanups.append(container.stop)
            return str(container.get_bootstrap_server())
        server = KafkaServer(self._workdir() / "kafka", port=free_port(), controller_port=free_port(), heap="384m")
        self._cleanups.append(server.stop)
        server.start()
        return server.bootstrap

    def close(self) -> None:
        while self._cleanups:
            cleanup = self._cleanups.pop()
            with contextlib.suppress(Exception):
                cleanup()
