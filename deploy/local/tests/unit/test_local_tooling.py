"""The local tooling fails fast with one actionable line instead of hanging."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from casefold_local import InfraError, KafkaServer, PostgresServer
from casefold_local import kafka as kafka_module
from casefold_local.procs import read_pid


@pytest.fixture
def occupied_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_postgres_refuses_a_port_in_use(tmp_path: Path, occupied_port: int) -> None:
    with pytest.raises(InfraError, match=f"port 127.0.0.1:{occupied_port} is already in use"):
        PostgresServer(tmp_path / "pg", port=occupied_port).start()


def test_kafka_refuses_a_port_in_use(tmp_path: Path, occupied_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kafka_module, "ensure_jars", lambda: tmp_path)
    with pytest.raises(InfraError, match="already in use"):
        KafkaServer(tmp_path / "kafka", port=occupied_port).start()


def test_missing_java_is_reported_not_hung(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEFOLD_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(InfraError, match="`java` is not on PATH"):
        kafka_module.ensure_jars()


def test_stale_pid_file_is_ignored_and_removed(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    pid_file = tmp_path / "kafka.pid"
    pid_file.write_text(str(dead.pid))

    assert read_pid(pid_file, "server.properties") is None
    assert not pid_file.exists()


def test_pid_of_an_unrelated_live_process_is_not_ours(tmp_path: Path) -> None:
    pid_file = tmp_path / "kafka.pid"
    pid_file.write_text(str(os.getpid()))

    assert read_pid(pid_file, "definitely-not-in-our-cmdline") is None


def test_stopping_servers_that_never_ran_is_a_no_op(tmp_path: Path) -> None:
    PostgresServer(tmp_path / "pg").stop()
    KafkaServer(tmp_path / "kafka").stop()


def test_cluster_ids_never_start_with_a_dash() -> None:
    draws = iter([bytes([0xF8]) + bytes(15), bytes([0x10]) + bytes(15)])  # the first encodes to "-..."

    cluster_id = kafka_module.new_cluster_id(lambda: next(draws))

    assert cluster_id == "EAAAAAAAAAAAAAAAAAAAAA"
    assert all(not kafka_module.new_cluster_id().startswith("-") for _ in range(2000))
