"""Where PostgreSQL's time goes while `bench http --quick` runs: pg_stat_statements over the bench's private server,
the statements with the most execution time, each per call, with its planning time. `track = all` lists what runs
inside a statement too (the read model's trigger into case_search, the subject-prefix index's expression), so nested
time is counted twice: once in its own line, once in the statement that ran it.

    uv run python -m bench.statements            # needs the private server: CASEFOLD_BENCH_DATABASE_URL unset
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

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


async def _measure(infra: Infra, limit: int = 20, width: int = 160) -> list[dict[str, object]]:
    """Reset the statistics, run the HTTP bench, and read the statements with the most execution time."""
    conn = await asyncpg.connect(infra.postgres_dsn)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        await conn.execute("SELECT pg_stat_statements_reset()")
        await http_bench.run(infra, quick=True, results_name="http-statements")
        return [dict(r) for r in await conn.fetch(TOP, limit, width)]
    finally:
        await conn.close()


def main() -> int:
    if os.environ.get("CASEFOLD_BENCH_DATABASE_URL"):
        print("bench.statements preloads pg_stat_statements into its own PostgreSQL: unset CASEFOLD_BENCH_DATABASE_URL",
              file=sys.stderr)  # fmt: skip
        return 2
    with servers(postgres_settings=SETTINGS) as infra:
        rows = asyncio.run(_measure(infra))
    print(f"\n{'calls':>8} {'total ms':>9} {'us/call':>8} {'plan us':>8} {'WAL B/call':>10}  statement")
    for r in rows:
        print(f"{r['calls']:>8} {r['total_ms']:>9.0f} {r['us_per_call']:>8.1f} {r['plan_us_per_call']:>8.1f} "
              f"{r['wal_bytes_per_call']:>10.0f}  "
              f"{r['query']}")  # fmt: skip
    path = RESULTS / "statements.json"
    path.write_text(json.dumps(rows, indent=2, default=float) + "\n")
    print(f"\nwritten to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
