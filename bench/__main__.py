"""`make bench`: every benchmark, each beside its same-run baseline; results in bench/results/*.json.

    uv run python -m bench              # all
    uv run python -m bench events       # one
    uv run python -m bench --quick      # smaller volumes, for a smoke run
    uv run python -m bench portal       # the portal: initial JS gzipped, My Cases in Chromium beside its API calls
    uv run python -m bench http         # open case / add comment over HTTP (wrk) beside a bare FastAPI endpoint
    uv run python -m bench system       # the whole system through the gateway, rising load (Go load generator)
    uv run python -m bench.roundtrips   # the statements one open case and one comment send
    uv run python -m bench.statements   # bench http --quick under pg_stat_statements: PostgreSQL's time per statement

Service benchmarks live with their services (services/<name>/bench/bench_<name>.py) and run as subprocesses
against the same servers (CASEFOLD_BENCH_DATABASE_URL / CASEFOLD_BENCH_KAFKA_BOOTSTRAP).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from pathlib import Path

from bench import events_bench, http_bench, portal_bench, system_bench
from bench.harness import servers

ROOT = Path(__file__).resolve().parent.parent


def service_benches() -> dict[str, Path]:
    return {p.stem.removeprefix("bench_"): p for p in sorted(ROOT.glob("services/*/bench/bench_*.py"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument(
        "only",
        nargs="*",
        help="benchmarks to run (default: all): events, portal, http, system, " + ", ".join(service_benches()),
    )
    parser.add_argument("--quick", action="store_true", help="smaller volumes (a smoke run; figures are rougher)")
    parser.add_argument("--profile", type=Path, help="http: py-spy flame graphs of the commands into this folder")
    args = parser.parse_args(argv)
    chosen = set(args.only) or {"events", "portal", "http", "system", *service_benches()}
    failed = []
    with servers() as infra:
        if "events" in chosen:
            asyncio.run(events_bench.run(infra, quick=args.quick))
        if "portal" in chosen:
            asyncio.run(portal_bench.run(infra, quick=args.quick))
        if "http" in chosen:
            asyncio.run(http_bench.run(infra, quick=args.quick, profile=args.profile))
        if "system" in chosen:
            asyncio.run(system_bench.run(infra, quick=args.quick))
        pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "CASEFOLD_BENCH_DATABASE_URL": infra.postgres_dsn,
               "CASEFOLD_BENCH_KAFKA_BOOTSTRAP": infra.kafka_bootstrap, "PYTHONPATH": pythonpath}  # fmt: skip
        for name, script in service_benches().items():
            if name in chosen:
                extra = ["--quick"] if args.quick else []
                if subprocess.run([sys.executable, str(script), *extra], env=env, cwd=ROOT).returncode != 0:
                    failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
