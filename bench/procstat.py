"""The CPU of processes, from /proc: what a bench's process used per request, whatever else the machine ran."""

from __future__ import annotations

import os
from pathlib import Path

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
