"""Cases service benchmarks over HTTP, each beside a same-run baseline on the same PostgreSQL.

    uv run python -m bench cases [--quick]
    PYTHONPATH=. uv run python services/cases/bench/bench_cases.py [--quick] [--cases 1000000] [--requests 2000]

(from the repository root: the shared helpers come from bench.harness)

- open-case and add-comment: throughput and p50/p99 latency over HTTP (uvicorn in its own process, one worker),
  driven by wrk (bench/wrk_post.lua, --concurrency connections, --seconds, after a warm-up), baseline: a raw
  asyncpg INSERT of one row per transaction at the same concurrency (`bench http` compares the same commands with
  a bare FastAPI endpoint, the issue's baseline);
- list and search p50/p99 with --cases summaries in the read model (bulk-loaded with generate_series, default
  1,000,000), baseline: a raw SELECT by primary key; GET /healthz shows the bare HTTP cost.

Servers: CASEFOLD_BENCH_DATABASE_URL (a role that may create databases), else a private PostgreSQL.
Results: a table on stdout and bench/results/cases.json.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx

from bench.harness import Result, percentile, print_table, servers, write_results
from bench.http_bench import WrkRound, lua_data, wrk_round
from casefold_local.databases import create_database, drop_database
from casefold_testing.tokens import TestTokenIssuer

ROOT = Path(__file__).resolve().parents[3]

WORDS = [
    "production",
    "down",
    "login",
    "slow",
    "error",
    "timeout",
    "export",
    "import",
    "invoice",
    "billing",
    "password",
    "reset",
    "email",
    "sync",
    "upload",
    "download",
    "report",
    "dashboard",
    "api",
    "token",
    "webhook",
    "crash",
    "memory",
    "disk",
    "backup",
    "restore",
    "search",
    "index",
    "cluster",
    "node",
    "latency",
    "outage",
    "certificate",
    "expired",
    "license",
    "renewal",
    "payment",
    "refund",
    "mobile",
    "android",
    "ios",
    "browser",
    "chrome",
    "firefox",
    "safari",
    "printer",
    "pdf",
    "csv",
    "excel",
    "integration",
    "sso",
    "saml",
    "ldap",
    "permission",
    "role",
    "user",
    "account",
    "locked",
    "migration",
    "upgrade",
    "version",
    "release",
    "patch",
    "bug",
    "feature",
    "request",
    "question",
    "configuration",
    "setting",
    "notification",
    "alert",
    "queue",
    "worker",
    "database",
    "replication",
    "failover",
    "network",
    "dns",
    "proxy",
    "firewall",
    "vpn",
    "storage",
    "quota",
    "limit",
    "throttled",
    "rate",
]
BULK_OWNERS = 10_000
BULK_NUMBER_OFFSET = 10_000_000
SECONDARY_INDEXES = ("number", "activity", "status_activity", "owner_activity", "owner_status_activity",
                     "subject_fts", "subject_trgm", "subject_prefixes")  # fmt: skip


# The user directory: every bulk owner has a name (the first BULK_OWNERS ids), among more users who own no case.
BULK_USERS = 100_000
BULK_LOAD_USERS = f"""
    INSERT INTO users (id, display_name, name_version, email, email_verified, email_version, role, role_version,
                       version, updated_at)
    SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'Customer ' || g, 1,
           'customer' || g || '@example.com', true, 1, 'customer', 1, 1, now()
    FROM generate_series(0, {BULK_USERS - 1}) AS g
    ON CONFLICT (id) DO NOTHING
"""


def bulk_owner(i: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-4000-8000-{i:012x}")


BULK_LOAD = f"""
    INSERT INTO case_summaries (id, number, product_id, product_name, subject, description, severity, prioritised,
        priority_rule, status, opened_by, opened_at, closed_at, last_activity_at, version)
    SELECT gen_random_uuid(), {BULK_NUMBER_OFFSET} + g, 'casefold-cloud', 'Casefold Cloud',
           w[1 + (random() * (cardinality(w) - 1))::int] || ' ' || w[1 + (random() * (cardinality(w) - 1))::int]
               || ' ' || w[1 + (random() * (cardinality(w) - 1))::int] || ' ' || g,
           'bulk-loaded case ' || g, 1 + g % 3, false, NULL,
           CASE WHEN g % 10 < 3 THEN 'closed' ELSE 'open' END,
           ('00000000-0000-4000-8000-' || lpad(to_hex(g % {BULK_OWNERS}), 12, '0'))::uuid,
           t, CASE WHEN g % 10 < 3 THEN t + interval '1 hour' END, t + interval '1 hour', 2
    FROM generate_series($1::int, $2::int) AS g,
         LATERAL (SELECT now() - interval '3 years' + g * interval '90 seconds' AS t) AS times,
         (SELECT $3::text[] AS w) AS words
"""


def _serve(database_url: str, jwks: dict[str, Any], port: int) -> None:
    import os

    import uvicorn

    # The access line of every request is still rendered and written (the service pays for it), but not on the
    # bench's terminal.
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)

    from casefold_platform.auth import JwksVerifier
    from casefold_platform.logging import configure_logging
    from cases.config import Settings
    from cases.main import create_app

    configure_logging("cases", "WARNING")
    settings = Settings(environment="test", database_url=database_url, run_workers=False, run_migrations=False,
                        pool_min_size=4, pool_max_size=20)  # fmt: skip
    app = create_app(settings)
    app.state.jwt_verifier = JwksVerifier.from_jwks(jwks)
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, log_level="warning", access_log=False)


async def _wait_up(base: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                if (await client.get(f"{base}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the cases API did not come up")


async def load(n: int, concurrency: int, op: Callable[[int], Awaitable[None]]) -> tuple[float, list[float]]:
    """Run op(0..n-1) with `concurrency` workers: (operations per second, per-operation latencies in ms)."""
    latencies: list[float] = []
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            began = time.perf_counter()
            await op(i)
            latencies.append((time.perf_counter() - began) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return n / (time.perf_counter() - started), latencies


# The write scenarios' cases stay in the read model, the newest of it (the searches' recent window): their subjects
# mix the vocabulary like the bulk-loaded ones, two words each.
WRITTEN_SUBJECTS = [f"{WORDS[i % len(WORDS)]} {WORDS[(i * 7) % len(WORDS)]}" for i in range(7 * len(WORDS))]


def _wrk(base: str, kind: str, targets: list[tuple[str, str]], *, seconds: float, connections: int) -> WrkRound:
    """Requests of this kind (bench/wrk_post.lua: "get", or "case" / "comment" POSTs with a fresh Idempotency-Key
    each) to the (path, bearer token) targets in turn with wrk, a compiled client (the bench's Python does not
    compete with the service for the CPU), after a two-second warm-up; any failed request fails the bench."""
    with tempfile.TemporaryDirectory() as work:
        data = lua_data(Path(work) / f"{kind}.lua", kind, targets, WRITTEN_SUBJECTS if kind == "case" else None)
        wrk_round(base, data, f"warm-{kind}", 2, connections=connections, warm_up=True)
        measured = wrk_round(base, data, kind, seconds, connections=connections)
    if measured.failures:
        raise RuntimeError(f"{kind} {targets[0][0]}: {measured.failures} of {measured.requests} requests failed")
    return measured


def wrk_get(base: str, path: str, token: str, *, seconds: float, connections: int) -> WrkRound:
    """GET path as the bearer of token with wrk (see _wrk)."""
    return _wrk(base, "get", [(path, token)], seconds=seconds, connections=connections)


def wrk_lines(name: str, measured: WrkRound, baseline: list[float], target: str,
              baseline_name: str = "raw SELECT by pk") -> list[Result]:  # fmt: skip
    """p50 and p99 of a wrk run beside the baseline's latencies (ms)."""
    return [
        Result(f"{name} p50", "ms", measured.p50_ms, percentile(baseline, 50), baseline_name, "report",
               higher_is_better=False),
        Result(f"{name} p99", "ms", measured.p99_ms, percentile(baseline, 99), baseline_name, target,
               higher_is_better=False),
    ]  # fmt: skip


def _write_lines(name: str, measured: WrkRound, base: tuple[float, list[float]], base_name: str) -> list[Result]:
    """A command's throughput, p50 and p99 under wrk beside the baseline's (operations per second, latencies)."""
    throughput = Result(f"{name} throughput", "req/s", measured.requests_per_second, base[0], base_name, "report")
    return [throughput, *wrk_lines(name, measured, base[1], "report", base_name)]


async def bulk_load(dsn: str, cases: int) -> float:
    """cases summaries straight into the read model (indexes rebuilt once at the end); seconds taken."""
    began = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET maintenance_work_mem = '512MB'")
        for suffix in SECONDARY_INDEXES:
            await conn.execute(f"DROP INDEX IF EXISTS case_summaries_{suffix}")
        chunk = 100_000
        for start in range(1, cases + 1, chunk):
            await conn.execute(BULK_LOAD, start, min(cases, start + chunk - 1), list(WORDS))
            print(f"  loaded {min(cases, start + chunk - 1):,} cases", flush=True)
        await conn.execute("SELECT cases_create_read_model('')")
        await conn.execute(BULK_LOAD_USERS)
        await conn.execute("VACUUM ANALYZE case_summaries")
        await conn.execute("VACUUM ANALYZE users")
    finally:
        await conn.close()
    return time.perf_counter() - began


async def run(admin_dsn: str, *, cases: int, requests: int, reads: int, concurrency: int, seconds: float
              ) -> None:  # fmt: skip
    dsn = await create_database(admin_dsn, "casefold_cases_bench")
    issuer = TestTokenIssuer()
    server: multiprocessing.process.BaseProcess | None = None
    try:
        from casefold_events.migrate import migrate, package_migrations, shared_migrations

        await migrate(dsn, [shared_migrations(), package_migrations("cases")])
        from casefold_local.procs import free_port

        port = free_port()
        server = multiprocessing.get_context("spawn").Process(target=_serve, args=(dsn, issuer.jwks(), port))
        server.start()
        base = f"http://127.0.0.1:{port}"
        await _wait_up(base)
        results, extra = await _measure(dsn, base, issuer, cases=cases, requests=requests, reads=reads,
                                        concurrency=concurrency, seconds=seconds)  # fmt: skip
        print_table(f"cases service (HTTP, concurrency {concurrency}; read model {cases:,} cases)", results)
        path = write_results("cases", results, extra)
        print(f"\nwritten to {path.relative_to(ROOT)}")
    finally:
        if server is not None:
            server.terminate()
            server.join(10)
        await drop_database(admin_dsn, dsn)


async def _measure(dsn: str, base: str, issuer: TestTokenIssuer, *, cases: int, requests: int, reads: int,
                   concurrency: int, seconds: float) -> tuple[list[Result], dict[str, Any]]:  # fmt: skip
    tokens = {uid: issuer.mint(user_id=uid, expires_in=7200) for uid in (uuid.uuid4() for _ in range(200))}
    agent = {"Authorization": f"Bearer {issuer.mint(role='agent', expires_in=7200)}"}
    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
    assert pool is not None
    await pool.execute("CREATE TABLE bench_raw (id uuid PRIMARY KEY, body text NOT NULL, at timestamptz NOT NULL)")
    results: list[Result] = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:

        async def raw_insert(i: int) -> None:
            await pool.execute("INSERT INTO bench_raw VALUES ($1, $2, now())", uuid.uuid4(), "x" * 300)

        await load(50, concurrency, raw_insert)  # warm-up
        opening = _wrk(base, "case", [("/api/cases", token) for token in tokens.values()], seconds=seconds,
                       connections=concurrency)  # fmt: skip
        results += _write_lines("open case (POST /api/cases)", opening, await load(requests, concurrency, raw_insert),
                                "raw INSERT 1 row/tx")  # fmt: skip
        # Comments by each case's owner, spread over the cases just opened (a few each: far below the per-case limit).
        opened = await pool.fetch("SELECT id, opened_by FROM case_summaries ORDER BY number LIMIT 2000")
        commenting = _wrk(base, "comment", [(f"/api/cases/{r['id']}/comments", tokens[r["opened_by"]]) for r in opened],
                          seconds=seconds, connections=concurrency)  # fmt: skip
        results += _write_lines("add comment (POST .../comments)", commenting,
                                await load(requests, concurrency, raw_insert), "raw INSERT 1 row/tx")  # fmt: skip

        print(f"bulk-loading {cases:,} cases into the read model ...", flush=True)
        load_seconds = await bulk_load(dsn, cases)
        total = await pool.fetchval("SELECT count(*) FROM case_summaries")
        ids = [r["id"] for r in await pool.fetch("SELECT id FROM case_summaries ORDER BY random() LIMIT 1000")]
        owner = bulk_owner(42)
        owner_headers = {"Authorization": f"Bearer {issuer.mint(user_id=owner, expires_in=7200)}"}
        page1 = (await http.get("/api/cases", headers=agent, params={"limit": 20})).json()

        async def raw_select(i: int) -> None:
            await pool.fetchrow("SELECT * FROM case_summaries WHERE id = $1", ids[i % len(ids)])

        owner_token = owner_headers["Authorization"].removeprefix("Bearer ")
        agent_token = agent["Authorization"].removeprefix("Bearer ")

        def get(params: dict[str, Any], token: str, path: str = "/api/cases") -> tuple[str, str]:
            return (f"{path}?{urlencode(params)}" if params else path), token

        direct = _direct_queries(pool, owner, page1["next_cursor"])
        read_concurrency = max(1, concurrency // 4)
        scenarios = {
            "my cases, first page (customer)": get({"limit": 20}, owner_token),
            "my cases, open only (customer)": get({"status": "open"}, owner_token),
            "all cases, first page (agent)": get({"limit": 20}, agent_token),
            "all cases, page 2 by cursor (agent)": get({"cursor": page1["next_cursor"]}, agent_token),
            "closed cases (agent)": get({"status": "closed"}, agent_token),
            "search 'invoice' (agent, full text)": get({"q": "invoice"}, agent_token),
            "search 'login timeout' (agent, 2 words)": get({"q": "login timeout"}, agent_token),
            "search 'voic' (agent, partial word)": get({"q": "voic"}, agent_token),
            "search 'pass' (customer, prefix)": get({"q": "pass"}, owner_token),
            "search rare 'zzzq' (agent, no match)": get({"q": "zzzq"}, agent_token),
            "counts (customer)": get({}, owner_token, "/api/cases/counts"),
            "counts 'pass' (customer)": get({"q": "pass"}, owner_token, "/api/cases/counts"),
            "counts (agent, every case)": get({}, agent_token, "/api/cases/counts"),
            "counts 'invoice' (agent)": get({"q": "invoice"}, agent_token, "/api/cases/counts"),
        }
        baseline = await load(reads, read_concurrency, raw_select)
        health = wrk_get(base, "/healthz", agent_token, seconds=seconds, connections=read_concurrency)
        direct_ms: dict[str, dict[str, float]] = {}
        for name, (path, token) in scenarios.items():
            answer = await http.get(path, headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 200, answer.text
            measured = wrk_get(base, path, token, seconds=seconds, connections=read_concurrency)
            results += wrk_lines(name, measured, baseline[1], "<= 50 ms")
            _, latencies = await load(reads, 1, direct[name])
            direct_ms[name] = {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99)}
        print("\nthe same queries without HTTP (read_model.list_cases on one connection, sequential), ms:")
        for name, figures in direct_ms.items():
            print(f"  {name:<46} p50 {figures['p50']:7.2f}   p99 {figures['p99']:7.2f}")
        extra = {
            "read_model_cases": total,
            "queries_without_http_ms": direct_ms,
            "bulk_load_seconds": round(load_seconds, 1),
            "http_healthz_p50_ms": health.p50_ms,
            "http_healthz_p99_ms": health.p99_ms,
            "read_client": f"wrk, one thread, {read_concurrency} connections, {seconds:g} s a scenario",
            "write_concurrency": concurrency,
            "read_concurrency": read_concurrency,
            "requests_per_write_scenario": requests,
            "requests_per_read_scenario": reads,
        }
    await pool.close()
    return results, extra


def _direct_queries(pool: asyncpg.Pool, owner: uuid.UUID, cursor: str) -> dict[str, Callable[[int], Awaitable[None]]]:
    """The read scenarios as calls of the read-model query itself: what the database costs, without HTTP."""
    from cases.adapters.read_model import count_cases, list_cases
    from cases.domain.commands import Caller

    customer = Caller(user_id=owner, role="customer")
    agent = Caller(user_id=uuid.uuid4(), role="agent")
    calls: dict[str, tuple[Caller, dict[str, Any]]] = {
        "my cases, first page (customer)": (customer, {}),
        "my cases, open only (customer)": (customer, {"status": "open"}),
        "all cases, first page (agent)": (agent, {}),
        "all cases, page 2 by cursor (agent)": (agent, {"cursor": cursor}),
        "closed cases (agent)": (agent, {"status": "closed"}),
        "search 'invoice' (agent, full text)": (agent, {"q": "invoice"}),
        "search 'login timeout' (agent, 2 words)": (agent, {"q": "login timeout"}),
        "search 'voic' (agent, partial word)": (agent, {"q": "voic"}),
        "search 'pass' (customer, prefix)": (customer, {"q": "pass"}),
        "search rare 'zzzq' (agent, no match)": (agent, {"q": "zzzq"}),
    }
    counts: dict[str, tuple[Caller, str | None]] = {
        "counts (customer)": (customer, None),
        "counts 'pass' (customer)": (customer, "pass"),
        "counts (agent, every case)": (agent, None),
        "counts 'invoice' (agent)": (agent, "invoice"),
    }

    def call(viewer: Caller, params: dict[str, Any]) -> Callable[[int], Awaitable[None]]:
        async def op(_: int) -> None:
            async with pool.acquire() as conn:
                await list_cases(conn, viewer, **params)

        return op

    def count(viewer: Caller, q: str | None) -> Callable[[int], Awaitable[None]]:
        async def op(_: int) -> None:
            async with pool.acquire() as conn:
                await count_cases(conn, viewer, q=q)

        return op

    ops = {name: call(viewer, params) for name, (viewer, params) in calls.items()}
    return ops | {name: count(viewer, q) for name, (viewer, q) in counts.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20,000 cases, fewer requests (a smoke run)")
    parser.add_argument("--cases", type=int, default=None, help="summaries in the read model (default 1,000,000)")
    parser.add_argument("--requests", type=int, default=None, help="raw INSERTs per write baseline (default 2000)")
    parser.add_argument("--reads", type=int, default=None, help="requests per read scenario (default 400)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=None, help="wrk's time per scenario (default 5 s)")
    args = parser.parse_args(argv)
    cases = args.cases or (20_000 if args.quick else 1_000_000)
    requests = args.requests or (300 if args.quick else 2000)
    reads = args.reads or (100 if args.quick else 400)
    with servers() as infra:
        asyncio.run(run(infra.postgres_dsn, cases=cases, requests=requests, reads=reads,
                        concurrency=args.concurrency, seconds=args.seconds or (2 if args.quick else 5)))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
