"""`python -m bench http`: the cases service's commands over HTTP beside a bare FastAPI endpoint, driven by wrk.

Both are served the way deploy/local serves a service (`python -m uvicorn --factory ... --no-access-log`, one worker,
the platform's pool sizes) on the same durable PostgreSQL, directly and through an Envoy rendered by the gateway
config generator (its per-client and per-user rate limits raised, or the gateway's 429s would be the figure). The
cases service runs as in development (its outbox relay in the process) with tokens from casefold_testing's issuer
checked against a JWKS and a revocation list served by a stand-in for identity; every request carries its own
Idempotency-Key, as the portal sends. Scenarios alternate round by round (bare, open, comment; directly, then
through the gateway); the figures are the medians of the rounds, and their ratios to the bare endpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from bench.harness import Infra, Result, median, print_table, write_results
from bench.procstat import cpu_seconds, database_and_broker, tree_cpu_seconds
from casefold_local.databases import create_database, drop_database
from casefold_local.gateway import Gateway
from casefold_local.gateway_config import GatewaySettings, Upstream
from casefold_local.procs import free_port, terminate
from casefold_local.topics import ensure_topics
from casefold_testing.tokens import TestTokenIssuer

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).resolve().parent / "wrk_post.lua"
CONNECTIONS = 16
UNLIMITED = 1_000_000


class _Identity(ThreadingHTTPServer):
    """What the services and the gateway ask identity for: the JWKS and the (empty) revocation list."""

    daemon_threads = True

    def __init__(self, jwks: dict[str, Any]) -> None:
        documents = {"/api/identity/.well-known/jwks.json": jwks, "/internal/identity/revoked-tokens": {"revoked": []}}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = json.dumps(documents.get(self.path, {})).encode()
                self.send_response(200 if self.path in documents else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        super().__init__(("127.0.0.1", free_port()), Handler)


@contextlib.contextmanager
def _identity(jwks: dict[str, Any]) -> Iterator[int]:
    server = _Identity(jwks)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class _Served:
    name: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _serve(name: str, factory: str, env: dict[str, str], logs: Path) -> _Served:
    """One uvicorn process, with the command line deploy/local's runner uses for a service."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1", "--port", str(port),
               "--no-access-log"]  # fmt: skip
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    with open(logs / f"{name}.log", "ab") as log:
        process = subprocess.Popen(command, env={**os.environ, **env, "PYTHONPATH": pythonpath}, stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT)  # fmt: skip
    return _Served(name, port, process)


async def _wait_ready(served: _Served, logs: Path, within: float = 60) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if served.process.poll() is not None:
                raise RuntimeError(f"{served.name} exited:\n{(logs / f'{served.name}.log').read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{served.url}/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{served.name} did not become ready within {within:.0f}s")


def _gateway(state: Path, identity_port: int, cases_port: int) -> Gateway:
    """The generated gateway config, /api/cases going to cases_port; rate limits out of the way of the load."""
    openapi = state / "openapi.json"
    state.mkdir(parents=True, exist_ok=True)
    openapi.write_text(json.dumps({"openapi": "3.1.0", "paths": {}}))
    upstreams = (Upstream("identity", identity_port), Upstream("cases", cases_port),
                 Upstream("attachments", identity_port), Upstream("notifications", identity_port))  # fmt: skip
    settings = GatewaySettings(upstreams=upstreams, openapi_file=openapi, port=free_port(), admin_port=free_port(),
                               client_requests=UNLIMITED, user_requests=UNLIMITED)  # fmt: skip
    gateway = Gateway(state, settings)
    gateway.start()
    return gateway


@dataclass
class WrkRound:
    """What one wrk run measured (bench/wrk_post.lua prints it)."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    failures: int


def wrk_round(base: str, data_file: Path, tag: str, seconds: float, connections: int = CONNECTIONS,
              *, warm_up: bool = False) -> WrkRound:  # fmt: skip
    """wrk with bench/wrk_post.lua against base for `seconds`, on `connections` connections of one thread; a warm-up
    may finish no request (a cold first answer can take longer than the warm-up)."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s", "-s", str(SCRIPT), base,
               "--", str(data_file), tag]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    found = re.search(r"^WRK (\{.*\})$", out, re.MULTILINE)
    if found is None or (json.loads(found.group(1))["requests"] == 0 and not warm_up):
        raise RuntimeError(f"wrk printed no requests:\n{out}")
    figures = json.loads(found.group(1))
    failures = figures["non_2xx"] + figures["connect"] + figures["read"] + figures["write"] + figures["timeout"]
    return WrkRound(figures["requests"] / (figures["duration_us"] / 1e6), figures["p50_us"] / 1000,
                  figures["p99_us"] / 1000, figures["requests"], failures)  # fmt: skip


def lua_data(path: Path, kind: str, targets: list[tuple[str, str]], subjects: list[str] | None = None) -> Path:
    """The data file wrk_post.lua reads: the kind of request and the (path, bearer token) targets, in turn; subjects:
    what new cases' subjects start with, in turn (the script's own when None)."""
    rows = ",\n".join(f'  {{path = "{p}", token = "{t}"}}' for p, t in targets)
    words = "" if subjects is None else ", subjects = {" + ", ".join(f'"{s}"' for s in subjects) + "}"
    path.write_text(f'return {{kind = "{kind}"{words}, targets = {{\n{rows}\n}}}}\n')
    return path


async def _open_cases(base: str, tokens: list[str], per_user: int) -> list[tuple[str, str]]:
    """Cases to comment on: per_user for each token's user (comments spread, below the per-case limit)."""
    body = {
        "product": "casefold-cloud",
        "subject": "commented on",
        "description": "a case that gets comments",
        "severity": 2,
    }
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:

        async def one(token: str) -> tuple[str, str]:
            response = await http.post("/api/cases", json=body, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 201, response.text
            return f"/api/cases/{response.json()['id']}/comments", token

        opened: list[tuple[str, str]] = []
        for _ in range(per_user):
            opened += await asyncio.gather(*(one(t) for t in tokens))
    return opened


SCENARIOS = ("bare", "open", "comment")
NAMES = {"open": "open case (POST /api/cases)", "comment": "add comment (POST .../comments)"}


async def run(infra: Infra, *, quick: bool = False, profile: Path | None = None, results_name: str = "http") -> None:
    """Measure (and with profile, a folder, record where an open-case and an add-comment round spend their time);
    the figures go to bench/results/<results_name>.json."""
    rounds = 2 if quick else 5
    seconds = 3 if quick else 10
    work = Path(tempfile.mkdtemp(prefix="casefold-http-bench-"))
    cases_dsn = await create_database(infra.postgres_dsn, "casefold_cases_http_bench")
    bare_dsn = await create_database(infra.postgres_dsn, "casefold_bare_http_bench")
    issuer = TestTokenIssuer()
    served: list[_Served] = []
    gateways: list[Gateway] = []
    try:
        from casefold_events.migrate import migrate, package_migrations, shared_migrations

        await migrate(cases_dsn, [shared_migrations(), package_migrations("cases")])
        await ensure_topics(infra.kafka_bootstrap, ["cases.events.v1", "identity.events.v1", "cases.dlq"])
        with _identity(issuer.jwks()) as identity_port:
            identity = f"http://127.0.0.1:{identity_port}"
            cases = _serve("cases", "cases.main:create_app", {
                "CASES_DATABASE_URL": cases_dsn, "CASES_KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
                "CASES_ENVIRONMENT": "development", "CASES_RUN_MIGRATIONS": "false",
                "CASES_JWKS_URL": f"{identity}/api/identity/.well-known/jwks.json",
                "CASES_REVOKED_TOKENS_URL": f"{identity}/internal/identity/revoked-tokens",
                "CASES_LOG_LEVEL": "WARNING"}, work)  # fmt: skip
            bare = _serve("bare", "bench.bare_app:create_app", {"BARE_DATABASE_URL": bare_dsn}, work)
            served += [cases, bare]
            await _wait_ready(cases, work)
            await _wait_ready(bare, work)
            gateways += [_gateway(work / "gw-cases", identity_port, cases.port),
                         _gateway(work / "gw-bare", identity_port, bare.port)]  # fmt: skip
            servers = database_and_broker(infra.postgres_dsn, infra.kafka_bootstrap)
            results, extra = await _measure(work, issuer, cases, bare, gateways, servers, rounds, seconds, profile)
    finally:
        for gateway in gateways:
            gateway.stop()
        for s in served:
            terminate(s.process.pid, 10)
        await drop_database(infra.postgres_dsn, cases_dsn)
        await drop_database(infra.postgres_dsn, bare_dsn)
        shutil.rmtree(work, ignore_errors=True)
    print_table(f"HTTP commands vs a bare FastAPI endpoint (wrk, {CONNECTIONS} connections, medians of {rounds} "
                f"rounds of {seconds:g}s)", results)  # fmt: skip
    path = write_results(results_name, results, extra)
    print(f"\nwritten to {path.relative_to(ROOT)}")


async def _measure(
    work: Path,
    issuer: TestTokenIssuer,
    cases: _Served,
    bare: _Served,
    gateways: list[Gateway],
    servers: dict[str, int],
    rounds: int,
    seconds: float,
    profile: Path | None,
) -> tuple[list[Result], dict[str, Any]]:
    tokens = [issuer.mint(user_id=uuid.uuid4(), expires_in=7200) for _ in range(64)]
    commented = await _open_cases(cases.url, tokens, per_user=8)
    data = {
        "bare": lua_data(work / "bare.lua", "case", [("/api/cases", t) for t in tokens]),
        "open": lua_data(work / "open.lua", "case", [("/api/cases", t) for t in tokens]),
        "comment": lua_data(work / "comment.lua", "comment", commented),
    }
    routes = {
        "direct": {"bare": bare.url, "open": cases.url, "comment": cases.url},
        "gateway": {"bare": gateways[1].settings.url, "open": gateways[0].settings.url,
                    "comment": gateways[0].settings.url},
    }  # fmt: skip
    pids = {"bare": bare.process.pid, "open": cases.process.pid, "comment": cases.process.pid}
    samples: dict[tuple[str, str], list[WrkRound]] = {(r, s): [] for r in routes for s in SCENARIOS}
    cpu: dict[tuple[str, str], list[float]] = {(r, s): [] for r in routes for s in SCENARIOS}
    # what the database and the broker spent per request in the same rounds: the bare endpoint's one INSERT beside a
    # command's statements, the outbox and NOTIFY, and the relay's produce (the broker idles for the bare endpoint)
    server_cpu: dict[tuple[str, str, str], list[float]] = {
        (r, s, name): [] for r in routes for s in SCENARIOS for name in servers
    }
    for route, bases in routes.items():  # warm-up: pools filled, code paths hot, JWKS fetched
        for scenario in SCENARIOS:
            wrk_round(bases[scenario], data[scenario], f"warm-{route}-{scenario}", 2)
    for n in range(rounds):
        for route, bases in routes.items():
            for scenario in SCENARIOS:
                before = cpu_seconds(pids[scenario])
                servers_before = {name: tree_cpu_seconds(pid) for name, pid in servers.items()}
                measured = wrk_round(bases[scenario], data[scenario], f"r{n}-{route}-{scenario}", seconds)
                per_request = 1000 / max(measured.requests, 1)
                service_used = (cpu_seconds(pids[scenario]) - before) * per_request
                samples[route, scenario].append(measured)
                cpu[route, scenario].append(service_used)
                spent = ""
                for name, pid in servers.items():
                    server_used = (tree_cpu_seconds(pid) - servers_before[name]) * per_request
                    server_cpu[route, scenario, name].append(server_used)
                    spent += f"  {name} {server_used:4.2f}"
                print(f"  round {n + 1} {route:<7} {scenario:<7} {measured.requests_per_second:8.1f} req/s  "
                      f"p50 {measured.p50_ms:6.1f} ms  p99 {measured.p99_ms:6.1f} ms  "
                      f"server CPU {service_used:5.2f} ms/request{spent}  failures {measured.failures}",
                      flush=True)  # fmt: skip
    results: list[Result] = []
    for route in routes:
        base_rps = [r.requests_per_second for r in samples[route, "bare"]]
        base_p99 = [r.p99_ms for r in samples[route, "bare"]]
        baseline_name = "bare FastAPI+INSERT" + (" via gateway" if route == "gateway" else "")
        for scenario in ("open", "comment"):
            ours = samples[route, scenario]
            label = f"{NAMES[scenario]}{' via gateway' if route == 'gateway' else ''}"
            rps = [r.requests_per_second for r in ours]
            p99 = [r.p99_ms for r in ours]
            results.append(Result(f"{label} req/s", "req/s", median(rps), median(base_rps), baseline_name,
                                  ">= 0.5x", rps, base_rps))  # fmt: skip
            results.append(Result(f"{label} p99", "ms", median(p99), median(base_p99), baseline_name, "<= 3x", p99,
                                  base_p99, higher_is_better=False))  # fmt: skip
            used, base_used = cpu[route, scenario], cpu[route, "bare"]
            results.append(Result(f"{label} server CPU/request", "ms", median(used), median(base_used), baseline_name,
                                  "-", used, base_used, higher_is_better=False))  # fmt: skip
            for name in servers:
                used, base_used = server_cpu[route, scenario, name], server_cpu[route, "bare", name]
                results.append(Result(f"{label} {name} CPU/request", "ms", median(used), median(base_used),
                                      baseline_name, "-", used, base_used, higher_is_better=False))  # fmt: skip
    if profile is not None:
        for scenario in ("open", "comment"):
            _profiled(cases, profile / f"{scenario}",
                      lambda fmt, s=scenario: wrk_round(cases.url, data[s], f"prof-{fmt}-{s}", 10))  # fmt: skip
    failures = {f"{route} {scenario}": sum(r.failures for r in rs) for (route, scenario), rs in samples.items()}
    extra = {
        "connections": CONNECTIONS,
        "rounds": rounds,
        "seconds_per_round": seconds,
        "failed_requests": failures,
        "p50_ms": {f"{route} {scenario}": median([r.p50_ms for r in rs]) for (route, scenario), rs in samples.items()},
        "served_as": "python -m uvicorn --factory <app> --host 127.0.0.1 --port <p> --no-access-log (1 worker)",
    }
    if any(failures.values()):
        print(f"\nfailed requests (non-2xx or socket errors): {failures}", file=sys.stderr)
    return results, extra


def _profiled(served: _Served, stem: Path, load: Any) -> None:
    """py-spy samples the service process while load() runs: a flame graph (stem.svg) and its stacks (stem.txt)."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    for fmt, suffix in (("flamegraph", ".svg"), ("raw", ".txt")):
        recorder = subprocess.Popen([spy, "record", "--pid", str(served.process.pid), "--rate", "250", "--format",
                                     fmt, "-o", str(stem.with_suffix(suffix))])  # fmt: skip
        time.sleep(1)
        try:
            load(fmt)  # its own keys each time: a repeat of a key is another code path (the stored answer)
        finally:
            recorder.send_signal(2)
            recorder.wait(30)
    print(f"  profile: {stem.with_suffix('.svg')}")
