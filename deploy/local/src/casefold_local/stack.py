"""The local stack: which servers and services run where, from the environment with sensible defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from casefold_local.kafka import DEFAULT_PORT as KAFKA_PORT
from casefold_local.kafka import KafkaServer
from casefold_local.postgres import DEFAULT_PORT as PG_PORT
from casefold_local.postgres import PostgresServer
from casefold_local.procs import state_root


@dataclass(frozen=True)
class Service:
    """One HTTP service of the system: an importable app factory served by uvicorn."""

    name: str
    port: int
    factory: str

    @property
    def env_prefix(self) -> str:
        return f"{self.name.upper()}_"

    @property
    def database(self) -> str:
        return f"casefold_{self.name}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


SERVICES = (
    Service("identity", 8001, "identity.main:create_app"),
    Service("cases", 8002, "cases.main:create_app"),
    Service("attachments", 8003, "attachments.main:create_app"),
    Service("notifications", 8004, "notifications.main:create_app"),
)


def postgres() -> PostgresServer:
    return PostgresServer(state_root() / "postgres", port=int(os.environ.get("CASEFOLD_PG_PORT", PG_PORT)))


def kafka() -> KafkaServer:
    return KafkaServer(state_root() / "kafka", port=int(os.environ.get("CASEFOLD_KAFKA_PORT", KAFKA_PORT)))


def external_database_url() -> str | None:
    """DATABASE_URL names an external server (superuser or a role that may create databases): start none."""
    return os.environ.get("DATABASE_URL") or None


def external_kafka() -> str | None:
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or None


def database_server_dsn() -> str:
    return external_database_url() or postgres().dsn()


def kafka_bootstrap() -> str:
    return external_kafka() or kafka().bootstrap


def logs_dir() -> Path:
    return state_root() / "logs"
