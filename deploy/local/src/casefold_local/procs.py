"""Process plumbing shared by the local servers: free ports, pid files, bounded waits."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from casefold_local.errors import InfraError


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def ensure_port_free(port: int, what: str, env_hint: str) -> None:
    """Refuse to start on a port somebody else already holds."""
    if port_open(port):
        raise InfraError(
            f"{what}: port 127.0.0.1:{port} is already in use by another process; stop it or set {env_hint}"
        )


def wait_until(check: Callable[[], bool], timeout: float, what: str, log: Path | None = None) -> None:
    """Poll check() until it holds; raise InfraError naming the log file after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    where = f"; see {log}" if log else ""
    raise InfraError(f"{what} did not become ready within {timeout:.0f}s{where}")


def read_pid(pid_file: Path, marker: str) -> int | None:
    """The pid in pid_file if that process is alive and its command line mentions marker; else None.

    A stale file (dead process, or a recycled pid now used by something else) is removed.
    """
    try:
        pid = int(pid_file.read_text().split("\n", 1)[0].strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        proc = psutil.Process(pid)
        if proc.status() != psutil.STATUS_ZOMBIE and marker in " ".join(proc.cmdline()):
            return pid
    except psutil.Error:
        pass
    pid_file.unlink(missing_ok=True)
    return None


def terminate(pid: int, timeout: float) -> None:
    """SIGTERM, wait up to timeout seconds for a clean exit, then SIGKILL."""
    try:
        proc = psutil.Process(pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout)
    except psutil.TimeoutExpired:
        with contextlib.suppress(psutil.Error):
            psutil.Process(pid).kill()
            psutil.Process(pid).wait(10)
    except psutil.Error:
        pass


def tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log file, for error messages."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def state_root() -> Path:
    """Where local state and logs live: $CASEFOLD_STATE_DIR, else ./.casefold (git-ignored)."""
    return Path(os.environ.get("CASEFOLD_STATE_DIR", Path.cwd() / ".casefold")).resolve()
