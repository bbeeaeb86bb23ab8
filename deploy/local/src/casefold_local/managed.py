"""A detached child process with a pid file and a log file: how the supervisor runs services and the inbox."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from casefold_local.procs import read_pid, terminate


@dataclass
class ManagedProcess:
    """name.pid and name.log in logs_dir; `marker` (in the command line) tells our process from a recycled pid."""

    name: str
    command: list[str]
    logs_dir: Path
    marker: str
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def pid_file(self) -> Path:
        return self.logs_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.logs_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        return read_pid(self.pid_file, self.marker)

    def start(self) -> None:
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            self.proc = subprocess.Popen(
                self.command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env},
                start_new_session=True,
            )
        self.pid_file.write_text(str(self.proc.pid))

    def exited(self) -> int | None:
        """The exit code when the process we started has ended, else None."""
        return None if self.proc is None else self.proc.poll()

    def stop(self, timeout: float = 15) -> None:
        pid = self.pid()
        self.pid_file.unlink(missing_ok=True)  # first: a foreground `make run` sees the stop is deliberate
        if pid is not None:
            terminate(pid, timeout)
        elif self.proc is not None and self.proc.poll() is None:
            terminate(self.proc.pid, timeout)
        if self.proc is not None:
            self.proc.poll()
