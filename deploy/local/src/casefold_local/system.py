"""The whole system on one machine: inbox, databases, topics, migrations, the four services and the gateway."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path

import asyncpg
import httpx

from casefold_local.errors import InfraError
from casefold_local.gateway import Gateway
from casefold_local.gateway_config import GatewaySettings, Upstream
from casefold_local.managed import ManagedProcess
from casefold_local.procs import ensure_port_free, port_open, tail, wait_until
from casefold_local.stack import Layout, Service
from casefold_local.topics import ensure_topics

Report = Callable[[str], None]


def installed(service: Service) -> bool:
    return find_spec(service.name) is not None and find_spec(service.factory.split(":")[0]) is not None


def has_migrate_command(service: Service) -> bool:
    spec = find_spec(f"{service.name}.__main__")
    if spec is None or spec.origin is None:
        return False
    with open(spec.origin) as source:
        return "migrate" in source.read()


async def ensure_databases(server_dsn: str, names: list[str]) -> None:
    """One database per service on the shared server (a service never reads another's tables)."""
    try:
        conn = await asyncpg.connect(server_dsn, timeout=10)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise InfraError(f"postgres: cannot connect to {server_dsn.split('@')[-1]}: {exc}") from exc
    try:
        existing = {r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database")}
        for name in names:
            if name not in existing:
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def wait_ready(services: list[Service], within: float = 60) -> dict[str, bool]:
    """Poll each service's /readyz until all answer 200 or the time is up."""
    deadline = time.monotonic() + within
    ready = dict.fromkeys((s.name for s in services), False)
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline and not all(ready.values()):
            for service in services:
                if not ready[service.name]:
                    with contextlib.suppress(httpx.HTTPError):
                        ready[service.name] = (await client.get(f"{service.url}/readyz")).status_code == 200
            await asyncio.sleep(0.3)
    return ready


class System:
    """Start and stop everything above PostgreSQL and Kafka for one Layout (which names where those run)."""

    def __init__(self, layout: Layout, report: Report = print) -> None:
        self.layout = layout
        self.report = report
        self.services = [s for s in layout.services if installed(s)]
        logs = layout.logs_dir
        self.mailbox = ManagedProcess(
            "mailbox",
            [sys.executable, "-m", "casefold_local.mailbox", "--smtp-port", str(layout.smtp_port),
             "--http-port", str(layout.mail_http_port), "--state-dir", str(layout.mail_dir),
             "--reply-smtp-port", str(layout.inbound_smtp_port)],
            logs, marker=str(layout.mail_dir),
        )  # fmt: skip
        self.traceviewer = self._traceviewer_process()
        self.processes = {s.name: self._service_process(s) for s in self.services}
        self.portal = self._portal_process()
        upstreams = tuple(Upstream(s.name, s.port) for s in layout.services)
        settings = GatewaySettings(
            upstreams=upstreams,
            openapi_file=layout.openapi_file,
            port=layout.gateway_port,
            admin_port=layout.gateway_admin_port,
            portal=Upstream("portal", layout.portal_port) if self.serves_portal else None,
            login_burst=layout.gateway_login_burst,
            otlp_endpoint=layout.otlp_endpoint,
        )
        if layout.cors_origins:
            settings = dataclasses.replace(settings, cors_origins=layout.cors_origins)
        self.gateway = Gateway(layout.gateway_dir, settings)
        self.ready: dict[str, bool] = {}

    def _service_process(self, s: Service) -> ManagedProcess:
        command = [sys.executable, "-m", "uvicorn", "--factory", s.factory, "--host", "127.0.0.1",
                   "--port", str(s.port), "--no-access-log"]  # fmt: skip
        marker = f"{s.factory} --host 127.0.0.1 --port {s.port}"
        return ManagedProcess(s.name, command, self.layout.logs_dir, marker=marker, env=self.layout.service_env(s))

    def _traceviewer_process(self) -> ManagedProcess | None:
        port = self.layout.trace_viewer_port
        if port is None:
            return None
        command = [sys.executable, "-m", "casefold_local.traceviewer", "--port", str(port)]
        return ManagedProcess(
            "traces", command, self.layout.logs_dir, marker=f"casefold_local.traceviewer --port {port}"
        )

    def _portal_process(self) -> ManagedProcess | None:
        dist = self.layout.portal_dist
        if dist is None:
            return None
        command = [sys.executable, "-m", "casefold_local.portal", "--dist", str(dist),
                   "--port", str(self.layout.portal_port)]  # fmt: skip
        return ManagedProcess("portal", command, self.layout.logs_dir, marker=f"casefold_local.portal --dist {dist}")

    @property
    def serves_portal(self) -> bool:
        """A built portal is there: the gateway sends every path outside /api/ to it."""
        dist = self.layout.portal_dist
        return dist is not None and (dist / "index.html").is_file()

    def all_processes(self) -> list[ManagedProcess]:
        optional = [p for p in (self.traceviewer, self.portal) if p is not None]
        return [self.mailbox, *self.processes.values(), *optional]

    def _check_ports(self) -> None:
        layout = self.layout
        ours = [p.name for p in self.all_processes() if p.pid() is not None]
        if self.gateway.pid() is not None:
            ours.append("gateway")
        if ours:
            raise InfraError(
                f"{', '.join(ours)} already running from an earlier start (pid files in {layout.state_dir}); "
                "run `make stop` first"
            )
        ensure_port_free(layout.smtp_port, "mail inbox (SMTP)", "CASEFOLD_SMTP_PORT")
        ensure_port_free(layout.mail_http_port, "mail inbox (HTTP)", "CASEFOLD_MAIL_UI_PORT")
        ensure_port_free(layout.inbound_smtp_port, "replies by email (SMTP)", "CASEFOLD_INBOUND_SMTP_PORT")
        if layout.trace_viewer_port is not None:
            ensure_port_free(layout.trace_viewer_port, "trace viewer (OTLP)", "CASEFOLD_TRACES_PORT")
        for service in self.services:
            ensure_port_free(service.port, service.name, f"{service.env_prefix}PORT")
        if self.serves_portal:
            ensure_port_free(layout.portal_port, "portal", "CASEFOLD_PORTAL_PORT")
        ensure_port_free(layout.gateway_port, "gateway", "CASEFOLD_GATEWAY_PORT")
        ensure_port_free(layout.gateway_admin_port, "gateway admin", "CASEFOLD_GATEWAY_ADMIN_PORT")

    def start(self, ready_within: float = 90) -> None:
        """Bring everything up in order; raises InfraError (one line) on the first part that cannot start."""
        layout = self.layout
        self._check_ports()
        self.report("casefold: starting the mail inbox ...")
        self.mailbox.start()
        wait_until(lambda: self._alive(self.mailbox) and port_open(layout.mail_http_port), 30, "mail inbox",
                   self.mailbox.log_file)  # fmt: skip
        if self.traceviewer is not None and layout.trace_viewer_port is not None:
            self.report("casefold: starting the trace viewer ...")
            self.traceviewer.start()
            viewer, port = self.traceviewer, layout.trace_viewer_port
            wait_until(lambda: self._alive(viewer) and port_open(port), 30, "trace viewer", viewer.log_file)
        self.report("casefold: databases and topics ...")
        asyncio.run(ensure_databases(layout.database_server_dsn, [layout.database(s) for s in self.services]))
        asyncio.run(ensure_topics(layout.kafka_bootstrap, layout.topics()))
        openapi = self._start_openapi()
        self._migrate_all()
        self.report("casefold: starting " + ", ".join(s.name for s in self.services) + " ...")
        for process in self.processes.values():
            process.start()
        self.ready = asyncio.run(wait_ready(self.services, ready_within))
        for name, process in self.processes.items():
            if process.exited() is not None:
                raise InfraError(f"{name} exited with code {process.exited()}; see {process.log_file}")
        self._finish_openapi(openapi)
        if self.portal is not None and self.serves_portal:
            self.report("casefold: starting the portal ...")
            self.portal.start()
            portal = self.portal
            wait_until(lambda: self._alive(portal) and port_open(layout.portal_port), 30, "portal", portal.log_file)
        self.report("casefold: starting the gateway ...")
        self.gateway.start()

    def _alive(self, process: ManagedProcess) -> bool:
        if process.exited() is not None:
            raise InfraError(f"{process.name} exited with code {process.exited()}:\n{tail(process.log_file, 5)}")
        return True

    def _migrate_all(self, within: float = 120) -> None:
        """`python -m <service> migrate` for every service, in parallel; skipped where the command is missing."""
        running: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
        self.layout.logs_dir.mkdir(parents=True, exist_ok=True)
        for service in self.services:
            if not has_migrate_command(service):
                self.report(f"casefold: warning: `python -m {service.name} migrate` does not exist yet; skipped")
                continue
            log = self.layout.logs_dir / f"{service.name}.migrate.log"
            with open(log, "wb") as out:
                proc = subprocess.Popen(
                    [sys.executable, "-m", service.name, "migrate"],
                    env={**os.environ, **self.layout.service_env(service)},
                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                )  # fmt: skip
            running[service.name] = (proc, log)
        deadline = time.monotonic() + within
        failed = []
        for name, (proc, log) in running.items():
            try:
                code = proc.wait(max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
                code = -1
            if code != 0:
                failed.append(f"{name} (exit {code}, see {log})")
        if failed:
            raise InfraError("migrations failed: " + "; ".join(failed))

    def _start_openapi(self) -> subprocess.Popen[bytes]:
        self.layout.gateway_dir.mkdir(parents=True, exist_ok=True)
        with open(self.layout.gateway_dir / "openapi.log", "wb") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "casefold_local.openapi", "--out", str(self.layout.openapi_file),
                 "--server-url", self.layout.gateway_url],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip

    def _finish_openapi(self, proc: subprocess.Popen[bytes]) -> None:
        try:
            code = proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
            code = -1
        if code != 0:
            self.report(f"casefold: warning: the combined OpenAPI document failed; see {self.layout.gateway_dir}")

    def stopped_elsewhere(self) -> bool:
        """True when `make stop` (another terminal) has begun: it removes each pid file before it stops the process."""
        files = [p.pid_file for p in self.all_processes() if p.proc is not None] + [self.gateway.pid_file]
        return not all(f.exists() for f in files)

    def check_alive(self) -> None:
        """Raise InfraError when a part we started has died (the foreground loop calls this)."""
        for process in self.all_processes():
            if process.exited() is not None:
                raise InfraError(f"{process.name} exited with code {process.exited()}; see {process.log_file}")
        if self.gateway.pid() is None:
            raise InfraError(f"the gateway stopped; see {self.gateway.log_file}")

    def stop(self) -> None:
        """Gateway, services, inbox; by pid file, so it works from another terminal too (`make stop`)."""
        self.gateway.stop()
        for process in self.processes.values():
            process.stop()
        if self.portal is not None:
            self.portal.stop()
        if self.traceviewer is not None:
            self.traceviewer.stop()  # after the services: their last spans still reach it
        self.mailbox.stop()

    def describe(self) -> list[str]:
        layout = self.layout
        gw = layout.gateway_url
        lines = [self._describe_portal()]
        lines += [f"gateway       {'ready' if self.gateway.ready() else 'NOT READY':<9} {gw}/api/  (admin "
                 f"{self.gateway.settings.admin_url}, log {self.gateway.log_file})",
                 f"openapi                 {gw}/api/openapi.json"]  # fmt: skip
        for service in self.services:
            state = "ready" if self.ready.get(service.name) else "NOT READY"
            log = self.processes[service.name].log_file
            lines.append(f"{service.name:<13} {state:<9} {service.url}  (docs {service.url}/docs, log {log})")
        lines.append(f"mail inbox    {'ready':<9} {layout.mail_url}/  (API {layout.mail_url}/api/messages, "
                     f"SMTP 127.0.0.1:{layout.smtp_port})")  # fmt: skip
        lines.append(f"replies in    {'ready':<9} SMTP 127.0.0.1:{layout.inbound_smtp_port}  (notifications' listener: "
                     "a reply to a case email becomes a comment)")  # fmt: skip
        lines.append(self._describe_traces())
        lines.append(f"logs                    {layout.logs_dir}")
        return lines

    def _describe_traces(self) -> str:
        layout = self.layout
        if layout.trace_viewer_url is not None:
            return (f"traces        {'ready':<9} {layout.trace_viewer_url}/  (OTLP/HTTP receiver and viewer; in a "
                    "terminal: uv run python -m casefold_local.traceviewer show)")  # fmt: skip
        if layout.otlp_endpoint is not None:
            return f"traces                  sent to {layout.otlp_endpoint} (OTEL_EXPORTER_OTLP_ENDPOINT)"
        return "traces                  off"

    def _describe_portal(self) -> str:
        if self.portal is None or not self.serves_portal:
            return f"portal        {'NOT BUILT':<9} (no portal/dist; the gateway serves the API only)"
        state = "ready" if self.portal.pid() is not None else "NOT READY"
        where = f"files {self.layout.portal_dist}, log {self.portal.log_file}"
        return f"portal        {state:<9} {self.layout.portal_url}  (open this; {where})"
