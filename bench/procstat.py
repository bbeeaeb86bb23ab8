"""The CPU of processes, from /proc: what a bench's process used per request, whatever else the machine ran."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from urllib.parse import urlsplit

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (field 3 onwards); empty when the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return []


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process and of its children that ended (cutime, cstime); 0 when it is gone."""
    fields = _stat(pid)
    return sum(int(f) for f in fields[11:15]) / _TICK if fields else 0.0


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) and fields[1] == str(pid):
            found.append(int(entry.name))
    return found


def tree_cpu_seconds(pid: int) -> float:
    """A process and its live children (PostgreSQL's postmaster and its backends)."""
    return cpu_seconds(pid) + sum(cpu_seconds(c) for c in children(pid))


def listener(port: int) -> int | None:
    """The process listening on 127.0.0.1:port (PostgreSQL's and Kafka's, which the harness started)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for row in Path(table).read_text().splitlines()[1:]:
                cols = row.split()
                if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{cols[9]}]")
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if any(os.readlink(fd) in inodes for fd in (entry / "fd").iterdir()):
                    return int(entry.name)
    return None


def database_and_broker(postgres_dsn: str, kafka_bootstrap: str) -> dict[str, int]:
    """PostgreSQL's postmaster and Kafka's broker by the ports they listen on (left out when they run elsewhere)."""
    ports = {"postgres": urlsplit(postgres_dsn).port, "kafka": int(kafka_bootstrap.rsplit(":")[-1])}
    return {name: pid for name, port in ports.items() if port is not None and (pid := listener(port)) is not None}
