"""The agents' queue and keyword search over HTTP, with 1,000,000 cases and 5,000,000 comments in the read model,
beside a raw SELECT by primary key in the same run on the same PostgreSQL.

    uv run python -m bench queue [--quick]
    PYTHONPATH=. uv run python services/cases/bench/bench_queue.py [--quick] [--cases 1000000] [--seconds 5]

The read model is bulk-loaded with generate_series (indexes built once at the end): open and closed cases, both
waiting states, 60% assigned among 20 agents, 2% prioritised, SLA deadlines spread over two weeks (1% breached),
5 comments a case (one internal), words drawn from the cases bench's vocabulary; "sporadic" is in 1 case of 200,
"kerberos" in 1 of 5,000. Target: p99 at most 50 ms for every queue and search through the service.
Each scenario is one URL, driven by wrk (one thread, --concurrency connections, --seconds each after a warm-up)
against the cases API served by uvicorn as in the cases bench (its access log included, written to /dev/null); the
baseline is a raw SELECT by primary key on the same PostgreSQL at the same concurrency, and each query is timed
once more without HTTP (queue_page on one connection) to show what the database costs.
Results: a table on stdout and bench/results/queue.json.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx
from bench_cases import ROOT, WORDS, _serve, _wait_up, bulk_owner, load, wrk_get, wrk_lines

from bench.harness import Result, percentile, print_table, servers, write_results
from casefold_local.databases import create_database, drop_database
from casefold_testing.tokens import TestTokenIssuer

OWNERS = 10_000
AGENTS = 20
COMMENTS_PER_CASE = 5
NUMBER_OFFSET = 10_000_000
CHUNK = 50_000
P99_TARGET_MS = 50.0
SUMMARY_INDEXES = ("number", "activity", "status_activity", "owner_activity", "owner_status_activity", "subject_fts",
                   "subject_trgm", "status_urgency", "open_urgency", "waiting_urgency",
                   "assignee_urgency", "assignee_activity", "assignee_status_activity", "waiting_activity",
                   "open_deadline")  # fmt: skip


def agent_id(i: int) -> uuid.UUID:
    agent: uuid.UUID = bulk_owner(OWNERS + i)
    return agent


_PICK = "w[1 + (random() * (cardinality(w) - 1))::int]"
LOAD_CASES = f"""
    INSERT INTO case_summaries (id, number, product_id, product_name, subject, description, severity, prioritised,
        priority_rule, status, opened_by, opened_at, closed_at, last_activity_at, version, waiting_on, assignee_id,
        next_deadline_at)
    SELECT gen_random_uuid(), {NUMBER_OFFSET} + g,
           CASE WHEN g % 2 = 0 THEN 'casefold-cloud' ELSE 'casefold-server' END,
           CASE WHEN g % 2 = 0 THEN 'Casefold Cloud' ELSE 'Casefold Server' END,
           {_PICK} || ' ' || {_PICK} || ' ' || {_PICK} || ' ' || g,
           'Steps: ' || {_PICK} || ' ' || {_PICK} || ' ' || {_PICK} || ' ' || {_PICK} || ' ' || {_PICK}
               || CASE WHEN g % 200 = 7 THEN ' sporadic' ELSE '' END
               || CASE WHEN g % 5000 = 7 THEN ' kerberos' ELSE '' END,
           1 + g % 3, g % 50 = 5, CASE WHEN g % 50 = 5 THEN 'subject-contains-production-down' END,
           CASE WHEN closed THEN 'closed' ELSE 'open' END,
           ('00000000-0000-4000-8000-' || lpad(to_hex(g % {OWNERS}), 12, '0'))::uuid,
           t, CASE WHEN closed THEN t + interval '1 hour' END, t + interval '1 hour', 7,
           CASE WHEN closed THEN NULL WHEN g % 4 = 0 THEN 'customer' ELSE 'support' END,
           CASE WHEN g % 10 < 6
                THEN ('00000000-0000-4000-8000-' || lpad(to_hex({OWNERS} + g % {AGENTS}), 12, '0'))::uuid END,
           CASE WHEN closed OR g % 4 = 0 THEN NULL
                WHEN g % 100 = 1 THEN now() - (g % 500) * interval '1 minute'
                ELSE now() + (g % 20000) * interval '1 minute' END
    FROM generate_series($1::int, $2::int) AS g,
         LATERAL (SELECT now() - interval '3 years' + g * interval '90 seconds' AS t, g % 10 < 3 AS closed) AS x,
         (SELECT $3::text[] AS w) AS words
"""
LOAD_COMMENTS = f"""
    INSERT INTO case_comments (case_id, comment_id, seq, author_id, author_role, body, internal, created_at)
    SELECT s.id, gen_random_uuid(), k + 1, CASE WHEN k % 2 = 0 THEN s.opened_by ELSE $4::uuid END,
           CASE WHEN k % 2 = 0 THEN 'customer' ELSE 'agent' END,
           {_PICK} || ' ' || {_PICK} || ' ' || {_PICK} || ' ' || {_PICK} || ' ' || {_PICK} || ' ' || {_PICK},
           k = {COMMENTS_PER_CASE - 1}, s.opened_at + k * interval '5 minutes'
    FROM case_summaries AS s, generate_series(1, {COMMENTS_PER_CASE}) AS k, (SELECT $3::text[] AS w) AS words
    WHERE s.number BETWEEN {NUMBER_OFFSET} + $1::int AND {NUMBER_OFFSET} + $2::int
"""
LOAD_USERS = f"""
    INSERT INTO users (id, display_name, name_version, email, email_verified, email_version, role, role_version,
                       version, updated_at)
    SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
           CASE WHEN g < {OWNERS} THEN 'Customer ' ELSE 'Agent ' END || g, 1,
           'user' || g || '@example.com', true, 1, CASE WHEN g < {OWNERS} THEN 'customer' ELSE 'agent' END, 1, 1, now()
    FROM generate_series(0, {OWNERS + AGENTS - 1}) AS g
"""


async def bulk_load(dsn: str, cases: int) -> float:
    """cases summaries and COMMENTS_PER_CASE comments each, straight into the read model; seconds taken."""
    began = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET maintenance_work_mem = '512MB'")
        for suffix in SUMMARY_INDEXES:
            await conn.execute(f"DROP INDEX IF EXISTS case_summaries_{suffix}")
        await conn.execute("DROP INDEX IF EXISTS case_search_doc")
        await conn.execute("ALTER TABLE case_comments DROP CONSTRAINT case_comments_pkey")
        # The search documents are filled once at the end, from the loaded rows (as migration 0006 does).
        await conn.execute("ALTER TABLE case_summaries DISABLE TRIGGER case_search_mirror_insert")
        await conn.execute(LOAD_USERS)
        for start in range(1, cases + 1, CHUNK):
            end = min(cases, start + CHUNK - 1)
            await conn.execute(LOAD_CASES, start, end, list(WORDS))
            await conn.execute(LOAD_COMMENTS, start, end, list(WORDS), agent_id(0))
            print(f"  loaded {end:,} cases and {end * COMMENTS_PER_CASE:,} comments", flush=True)
        await conn.execute("ALTER TABLE case_comments ADD PRIMARY KEY (case_id, seq)")
        began_documents = time.perf_counter()
        await conn.execute("SELECT cases_fill_case_search('')")
        print(f"  search documents in {time.perf_counter() - began_documents:.0f} s", flush=True)
        await conn.execute("SELECT cases_create_read_model('')")
        await conn.execute("ALTER TABLE case_summaries ENABLE TRIGGER case_search_mirror_insert")
        for table in ("case_summaries", "case_comments", "case_search", "users"):
            await conn.execute(f"VACUUM ANALYZE {table}")
    finally:
        await conn.close()
    return time.perf_counter() - began


def scenarios(me: uuid.UUID, cursor: str, search_cursor: str) -> dict[str, dict[str, Any]]:
    """What an agent asks the queue for: each scenario's query parameters. (The loader assigns case g to agent
    g % 20 when g % 10 < 6, so agent 1 has cases and agent 7 none; "sporadic" cases are never agent 3's, "me".)"""
    return {
        "queue: open, by urgency": {},
        "queue: open, page 2 by cursor": {"cursor": cursor},
        "queue: waiting on customer": {"status": "waiting_on_customer"},
        "queue: assigned to me": {"assignee": "me"},
        "queue: a named agent, last activity": {"assignee": str(agent_id(1)), "sort": "last_activity"},
        "queue: unassigned": {"assignee": "unassigned"},
        "queue: prioritised": {"prioritised": "true"},
        "queue: severity 1, one product": {"severity": 1, "product": "casefold-server"},
        "queue: SLA breached": {"sla": "breached"},
        "queue: SLA due within 4 h": {"sla": "due_soon", "due_within_hours": 4},
        "queue: all, last activity": {"status": "all", "sort": "last_activity"},
        "queue: closed": {"status": "closed"},
        "search common 'invoice'": {"q": "invoice"},
        "search 'login timeout' (2 words)": {"q": "login timeout"},
        "search 'sporadic' (1 in 200)": {"q": "sporadic"},
        "search 'kerberos' (1 in 5,000)": {"q": "kerberos"},
        "search 'zzzq' (no match)": {"q": "zzzq"},
        "search 'invoice', assigned to me": {"q": "invoice", "assignee": "me"},
        "search 'sporadic', all, last activity": {"q": "sporadic", "status": "all", "sort": "last_activity"},
        "search 'sporadic', assigned to me": {"q": "sporadic", "assignee": "me"},
        "search 'invoice', page 2 by cursor": {"q": "invoice", "cursor": search_cursor},
    }


async def run(admin_dsn: str, *, cases: int, reads: int, concurrency: int, seconds: float) -> None:
    dsn = await create_database(admin_dsn, "casefold_queue_bench")
    issuer = TestTokenIssuer()
    server: multiprocessing.process.BaseProcess | None = None
    try:
        from casefold_events.migrate import migrate, package_migrations, shared_migrations
        from casefold_local.procs import free_port

        await migrate(dsn, [shared_migrations(), package_migrations("cases")])
        print(f"bulk-loading {cases:,} cases and {cases * COMMENTS_PER_CASE:,} comments ...", flush=True)
        load_seconds = await bulk_load(dsn, cases)
        port = free_port()
        server = multiprocessing.get_context("spawn").Process(target=_serve, args=(dsn, issuer.jwks(), port))
        server.start()
        base = f"http://127.0.0.1:{port}"
        await _wait_up(base)
        results, extra = await _measure(dsn, base, issuer, reads=reads, concurrency=concurrency, seconds=seconds)
        extra |= {"read_model_cases": cases, "read_model_comments": cases * COMMENTS_PER_CASE,
                  "bulk_load_seconds": round(load_seconds, 1)}  # fmt: skip
        print_table(f"cases queue and search (HTTP by wrk, {concurrency} connections; {cases:,} cases, "
                    f"{cases * COMMENTS_PER_CASE:,} comments)", results)  # fmt: skip
        over = [r.name for r in results if r.name.endswith("p99") and r.ours > P99_TARGET_MS]
        print(f"\np99 over {P99_TARGET_MS:.0f} ms: {', '.join(over) if over else 'none'}")
        path = write_results("queue", results, extra)
        print(f"written to {path.relative_to(ROOT)}")
    finally:
        if server is not None:
            server.terminate()
            server.join(10)
        await drop_database(admin_dsn, dsn)


async def _measure(dsn: str, base: str, issuer: TestTokenIssuer, *, reads: int, concurrency: int, seconds: float
                   ) -> tuple[list[Result], dict[str, Any]]:  # fmt: skip
    me = agent_id(3)
    token = issuer.mint(user_id=me, role="agent", expires_in=7200)
    agent = {"Authorization": f"Bearer {token}"}
    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
    assert pool is not None
    results: list[Result] = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        first = await http.get("/api/cases/queue", headers=agent)
        assert first.status_code == 200, first.text
        searched = await http.get("/api/cases/queue", params={"q": "invoice"}, headers=agent)
        ids = [r["id"] for r in await pool.fetch("SELECT id FROM case_summaries ORDER BY random() LIMIT 1000")]

        async def raw_select(i: int) -> None:
            await pool.fetchrow("SELECT * FROM case_summaries WHERE id = $1", ids[i % len(ids)])

        baseline = await load(reads, concurrency, raw_select)
        found: dict[str, int] = {}
        direct_ms: dict[str, dict[str, float]] = {}
        through_http: dict[str, dict[str, float]] = {}
        named = scenarios(me, first.json()["next_cursor"], searched.json()["next_cursor"])
        targets = {name: f"/api/cases/queue?{urlencode(params)}" for name, params in named.items()}
        targets["agents (assignee menu)"] = "/api/cases/agents"
        for name, path in targets.items():
            answer = await http.get(path, headers=agent)
            assert answer.status_code == 200, answer.text
            measured = wrk_get(base, path, token, seconds=seconds, connections=concurrency)
            through_http[name] = {"requests": measured.requests, "per_second": measured.requests_per_second}
            results += wrk_lines(name, measured, baseline[1], f"<= {P99_TARGET_MS:.0f} ms")
            if name in named:
                found[name] = len(answer.json()["items"])
                _, latencies = await load(reads, 1, _direct(pool, me, named[name]))
                direct_ms[name] = {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99)}
    await pool.close()
    print("\nthe same queries without HTTP (queue.queue_page on one connection, sequential), ms:")
    for name, figures in direct_ms.items():
        print(f"  {name:<42} p50 {figures['p50']:7.2f}   p99 {figures['p99']:7.2f}")
    return results, {"items_on_first_page": found, "queries_without_http_ms": direct_ms,
                     "through_http": through_http, "read_concurrency": concurrency, "seconds_per_scenario": seconds,
                     "client": f"wrk, one thread, {concurrency} connections"}  # fmt: skip


def _direct(pool: asyncpg.Pool, me: uuid.UUID, params: dict[str, Any]) -> Callable[[int], Awaitable[None]]:
    """A scenario as a call of the read-model query itself: what the database costs, without HTTP."""
    from cases.adapters.queue import QueueFilter, queue_page

    values = dict(params)
    if "prioritised" in values:
        values["prioritised"] = values["prioritised"] == "true"
    if values.get("assignee") not in (None, "me", "unassigned", "anyone"):
        values["assignee"] = uuid.UUID(values["assignee"])
    filters = QueueFilter(**values)

    async def op(_: int) -> None:
        async with pool.acquire() as conn:
            await queue_page(conn, filters, me, datetime.now(UTC))

    return op


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20,000 cases, fewer requests (a smoke run)")
    parser.add_argument("--cases", type=int, default=None, help="cases in the read model (default 1,000,000)")
    parser.add_argument("--reads", type=int, default=None, help="requests per scenario (default 400)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=None, help="wrk's time per scenario (default 5 s)")
    args = parser.parse_args(argv)
    cases = args.cases or (20_000 if args.quick else 1_000_000)
    reads = args.reads or (100 if args.quick else 400)
    with servers() as infra:
        seconds = args.seconds or (2 if args.quick else 5)
        asyncio.run(run(infra.postgres_dsn, cases=cases, reads=reads, concurrency=args.concurrency, seconds=seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
