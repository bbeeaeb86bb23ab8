"""What every benchmark shares: its own real servers, repeated timing, medians and ratios, a table, a JSON file.

These machines are shared and noisy: each measurement is repeated, ours and the baseline interleaved (operation by
operation where operations are short), and we report medians and the ratio of medians, never a single run.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from casefold_local import KafkaServer, PostgresServer
from casefold_local.procs import free_port

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Infra:
    postgres_dsn: str
    kafka_bootstrap: str


@contextlib.contextmanager
def servers(postgres_settings: dict[str, str] | None = None) -> Iterator[Infra]:
    """Servers for a benchmark run: CASEFOLD_BENCH_* URLs when given, else private ones (durable settings, and
    postgres_settings for a private PostgreSQL)."""
    pg_url = os.environ.get("CASEFOLD_BENCH_DATABASE_URL")
    kafka_url = os.environ.get("CASEFOLD_BENCH_KAFKA_BOOTSTRAP")
    root = Path(tempfile.mkdtemp(prefix="casefold-bench-"))
    started: list[PostgresServer | KafkaServer] = []
    try:
        if not pg_url:
            pg = PostgresServer(
                root / "pg", port=free_port(), settings={"shared_buffers": "256MB", **(postgres_settings or {})}
            )
            pg.start()
            started.append(pg)
            pg_url = pg.dsn()
        if not kafka_url:
            kafka = KafkaServer(root / "kafka", port=free_port(), controller_port=free_port(), log_level="WARN")
            kafka.start()
            started.append(kafka)
            kafka_url = kafka.bootstrap
        yield Infra(pg_url, kafka_url)
    finally:
        for server in reversed(started):
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Result:
    """One line of the table: our figure, the baseline's, and what the target asks of their ratio."""

    name: str
    unit: str
    ours: float
    baseline: float
    baseline_name: str
    target: str = ""
    samples_ours: list[float] = field(default_factory=list)
    samples_baseline: list[float] = field(default_factory=list)
    higher_is_better: bool = True

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline if self.baseline else float("nan")


async def interleaved(
    ours: Callable[[], Awaitable[float]], baseline: Callable[[], Awaitable[float]], rounds: int
) -> tuple[list[float], list[float]]:
    """Run ours and the baseline alternately, rounds times each (after one warm-up of each)."""
    await ours()
    await baseline()
    a: list[float] = []
    b: list[float] = []
    for _ in range(rounds):
        a.append(await ours())
        b.append(await baseline())
    return a, b


@dataclass
class Alternated:
    """Per-operation seconds of ours and the baseline, timed in turn (ours, baseline, ours, ...)."""

    ours: list[float]
    baseline: list[float]

    def per_second(self, items: int = 1) -> tuple[float, float]:
        """Items per second at the median operation time: (ours, baseline)."""
        return items / median(self.ours), items / median(self.baseline)

    def milliseconds(self) -> tuple[float, float]:
        """The median operation time in ms: (ours, baseline)."""
        return 1000 * median(self.ours), 1000 * median(self.baseline)

    def spread(self, convert: Callable[[float], float], chunks: int = 10) -> tuple[list[float], list[float]]:
        """The medians of consecutive chunks (converted, e.g. to a rate): how the figure moved during the run."""

        def of(times: list[float]) -> list[float]:
            size = max(1, len(times) // chunks)
            return [convert(median(times[i : i + size])) for i in range(0, len(times), size)]

        return of(self.ours), of(self.baseline)


async def alternating(
    ours: Callable[[], Awaitable[Any]], baseline: Callable[[], Awaitable[Any]], n: int, warmup: int = 10
) -> Alternated:
    """Time n operations of each, alternating one of ours with one of the baseline.

    For operations of a few milliseconds: on a shared machine the noise comes in bursts (other tenants, autovacuum,
    checkpoints) longer than one operation, so neighbours in time see the same conditions, and the medians of the
    two series compare like with like. (Blocks of many operations in turn, as `interleaved` does, let a burst fall
    on one side: the same code measured 0.69-0.93x its baseline from run to run that way.)
    """
    for _ in range(warmup):
        await ours()
        await baseline()
    result = Alternated([], [])
    clock = time.perf_counter
    for _ in range(n):
        start = clock()
        await ours()
        middle = clock()
        await baseline()
        result.ours.append(middle - start)
        result.baseline.append(clock() - middle)
    return result


async def rate(n: int, op: Callable[[int], Awaitable[Any]]) -> float:
    """Operations per second of n sequential calls op(i)."""
    start = time.perf_counter()
    for i in range(n):
        await op(i)
    return n / (time.perf_counter() - start)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100) by nearest rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def print_table(title: str, results: list[Result]) -> None:
    print(f"\n{title}")
    header = f"{'benchmark':<46} {'ours':>12} {'baseline':>12}  {'ratio':>6}  {'target':<22} baseline is"
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.name:<46} {r.ours:>12.1f} {r.baseline:>12.1f}  {r.ratio:>6.2f}  {r.target:<22} {r.baseline_name}"
            f"  ({r.unit})"
        )


def write_results(name: str, results: list[Result], extra: dict[str, Any] | None = None) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    doc = {
        "benchmark": name,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "results": [{**asdict(r), "ratio": r.ratio} for r in results],
        **(extra or {}),
    }
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path
