"""`make run`: bring up PostgreSQL, Kafka and every service, report readiness, stop it all on Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from importlib.util import find_spec

import asyncpg
import httpx

from casefold_local import stack
from casefold_local.errors import InfraError
from casefold_local.procs import ensure_port_free, read_pid, terminate


def infra_up() -> None:
    """Start (or reuse) the servers this machine runs; external ones named in the environment are left alone."""
    if stack.external_database_url() is None:
        stack.postgres().start()
    if stack.external_kafka() is None:
        stack.kafka().start()


def infra_down() -> None:
    stack.kafka().stop()
    stack.postgres().stop()


def describe_infra() -> list[str]:
    lines = []
    db = stack.external_database_url()
    lines.append(f"postgres  external {db.split('@')[-1]}" if db else stack.postgres().describe())
    bootstrap = stack.external_kafka()
    lines.append(f"kafka     external {bootstrap}" if bootstrap else stack.kafka().describe())
    return lines


async def ensure_databases(names: list[str]) -> None:
    """One database per service on the shared server (a service never reads another's tables)."""
    conn = await asyncpg.connect(stack.database_server_dsn(), timeout=10)
    try:
        existing = {r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database")}
        for name in names:
            if name not in existing:
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def _database_url(database: str) -> str:
    base, _, query = stack.database_server_dsn().partition("?")
    return f"{base.rpartition('/')[0]}/{database}" + (f"?{query}" if query else "")


def available_services() -> list[stack.Service]:
    """The services whose packages are installed and that have an app factory."""
    return [s for s in stack.SERVICES if find_spec(s.factory.split(":")[0].rsplit(".", 1)[0]) is not None]


def _pid_file(service: stack.Service) -> os.PathLike[str]:
    return stack.logs_dir() / f"{service.name}.pid"


def start_service(service: stack.Service) -> subprocess.Popen[bytes]:
    ensure_port_free(service.port, service.name, f"{service.env_prefix}PORT")
    env = {
        **os.environ,
        f"{service.env_prefix}DATABASE_URL": _database_url(service.database),
        f"{service.env_prefix}KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap(),
        f"{service.env_prefix}ENVIRONMENT": os.environ.get("CASEFOLD_ENVIRONMENT", "development"),
    }
    stack.logs_dir().mkdir(parents=True, exist_ok=True)
    with open(stack.logs_dir() / f"{service.name}.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", service.factory,
             "--host", "127.0.0.1", "--port", str(service.port), "--no-access-log"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True,
        )  # fmt: skip
    with open(_pid_file(service), "w") as f:
        f.write(str(proc.pid))
    return proc


async def wait_ready(services: list[stack.Service], within: float = 60) -> dict[str, bool]:
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


def stop_services() -> None:
    for service in stack.SERVICES:
        pid = read_pid(stack.logs_dir() / f"{service.name}.pid", service.factory)
        if pid is not None:
            terminate(pid, 15)
        (stack.logs_dir() / f"{service.name}.pid").unlink(missing_ok=True)


def run() -> int:
    """Foreground: everything up, URLs printed, Ctrl-C (or SIGTERM) stops everything cleanly."""
    print("casefold: starting PostgreSQL and Kafka ...", flush=True)
    infra_up()
    services = available_services()
    asyncio.run(ensure_databases([s.database for s in services]))
    procs = {s.name: start_service(s) for s in services}
    ready = asyncio.run(wait_ready(services))
    print("\n".join(describe_infra()))
    for service in services:
        state = "ready" if ready[service.name] else "NOT READY"
        log = stack.logs_dir() / f"{service.name}.log"
        print(f"{service.name:<13} {state:<9} {service.url}  (docs {service.url}/docs, log {log})")
    print("\nCasefold is running. Press Ctrl-C to stop everything (or run `make stop` elsewhere).", flush=True)

    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stopping:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    raise InfraError(f"{name} exited with code {proc.returncode}; see {stack.logs_dir()}/{name}.log")
            time.sleep(0.5)
    finally:
        print("\ncasefold: stopping ...", flush=True)
        stop_services()
        infra_down()
        print("casefold: stopped.")
    return 0
