"""No service or library opens a PostgreSQL connection except through casefold_events.pools (deadline, keepalives)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
DIRECT = re.compile(r"asyncpg\.(create_pool|connect)\(")
# and the test helpers' own listener, on the test session's server (casefold_testing does not depend on the events)
ALLOWED = {ROOT / "libs/events/src/casefold_events/pools.py", ROOT / "libs/testing/src/casefold_testing/listening.py"}


def test_every_pool_and_connection_comes_from_the_pools_module() -> None:
    sources = [*ROOT.glob("libs/*/src/**/*.py"), *ROOT.glob("services/*/src/**/*.py")]
    assert len(sources) > 50  # the scan sees the tree
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sources
        if path not in ALLOWED
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if DIRECT.search(line)
    ]
    assert offenders == []
