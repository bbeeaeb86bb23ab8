"""Where PostgreSQL's time goes while `bench http --quick` runs: pg_stat_statements over the bench's private server,
the statements with the most execution time, each per call, with its planning time. `track = all` lists what runs
inside a statement too (the read model's trigger into case_search, the subject-prefix index's expression), so nested
time is counted twice: once in its own line, once in the statement that ran it.

Beside them, what the active backends of each database were waiting for: pg_stat_activity sampled every few
milliseconds from a thread of its own (its own CPU disturbs the figures a little; only the shares count). "CPU" is an
active backend waiting for nothing.

    uv run python -m bench.statements            # needs the private server: CASEFOLD_BENCH_DATABASE_URL unset
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
from collections import Counter

import asyncpg

from bench import http_bench
from bench.harness import RESULTS, Infra, servers

SETTINGS = {
    "shared_preload_libraries": "pg_stat_statements",
    "pg_stat_statements.track": "all",
    "pg_stat_statements.track_planning": "on",
}
TOP = """
    SELECT calls, total_exec_time AS total_ms, total_exec_time * 1000 / calls AS us_per_call,
           total_plan_time * 1000 / calls AS plan_us_per_call,
           wal_bytes / calls AS wal_bytes_per_call, left(regexp_replace(query, '\\s+', ' ', 'g'), $2) AS query
    FROM pg_stat_statements WHERE calls > 0 ORDER BY total_exec_time DESC LIMIT $1
"""


WAITS = """
    SELECT regexp_replace(datname, '_[0-9a-f]{8}$', '') AS database, coalesce(wait_event_type, 'CPU') AS type,
           coalesce(wait_event, '') AS event, CASE WHEN wait_event_type = 'Lock' THEN left(query, 30) END AS during
    FROM pg_stat_activity
    WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND datname LIKE '%bench%'
"""


class WaitSampler(threading.Thread):
    """Counts the active backends' wait events by database, every `every` seconds, until stopped."""

    def __init__(self, dsn: str, every: float = 0.003) -> None:
        super().__init__(daemon=True)
        self.dsn, self.every = dsn, every
        self.samples = 0
        self.counts: Counter[tuple[str, str, str, str | None]] = Counter()
        self._stopping = threading.Event()

    def run(self) -> None:
        asyncio.run(self._sample())

    async def _sample(self) -> None:
        conn = await asyncpg.connect(self.dsn)
        try:
            while not self._stopping.is_set():
                self.counts.update((r["database"], r["type"], r["event"], r["during"]) for r in await conn.fetch(WAITS))
                self.samples += 1
                await asyncio.sleep(self.every)
        finally:
            await conn.close()

    def stop(self) -> list[dict[str, object]]:
        """Stop, and the shares: active backends per sample, by database and wait, the largest first."""
        self._stopping.set()
        self.join()
        return [{"database": d, "wait": f"{t}: {e}" if e else t, "during": q, "backends": n / max(self.samples, 1)}
                for (d, t, e, q), n in self.counts.most_common() if n / max(self.samples, 1) >= 0.01]  # fmt: skip


async def _measure(infra: Infra, limit: int = 20, width: int = 160) -> dict[str, list[dict[str, object]]]:
    """Reset the statistics, run the HTTP bench while sampling the waits, and read the statements with the most
    execution time."""
    conn = await asyncpg.connect(infra.postgres_dsn)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        await conn.execute("SELECT pg_stat_statements_reset()")
        sampler = WaitSampler(infra.postgres_dsn)
        sampler.start()
        try:
            await http_bench.run(infra, quick=True, results_name="http-statements")
        finally:
            waits = sampler.stop()
        return {"statements": [dict(r) for r in await conn.fetch(TOP, limit, width)], "waits": waits}
    finally:
        await conn.close()


def main() -> int:
    if os.environ.get("CASEFOLD_BENCH_DATABASE_URL"):
        print("bench.statements preloads pg_stat_statements into its own PostgreSQL: unset CASEFOLD_BENCH_DATABASE_URL",
              file=sys.stderr)  # fmt: skip
        return 2
    with servers(postgres_settings=SETTINGS) as infra:
        measured = asyncio.run(_measure(infra))
    print(f"\n{'calls':>8} {'total ms':>9} {'us/call':>8} {'plan us':>8} {'WAL B/call':>10}  statement")
    for r in measured["statements"]:
        print(f"{r['calls']:>8} {r['total_ms']:>9.0f} {r['us_per_call']:>8.1f} {r['plan_us_per_call']:>8.1f} "
              f"{r['wal_bytes_per_call']:>10.0f}  "
              f"{r['query']}")  # fmt: skip
    print(f"\n{'backends':>8}  database, wait (during)")
    for w in measured["waits"]:
        print(f"{w['backends']:>8.2f}  {w['database']}, {w['wait']}" + (f" ({w['during']})" if w["during"] else ""))
    path = RESULTS / "statements.json"
    path.write_text(json.dumps(measured, indent=2, default=float) + "\n")
    print(f"\nwritten to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
