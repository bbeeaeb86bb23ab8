"""Gap-safe reading of all events in commit-safe order, for projections and rebuilds.

The trap: global_position is assigned at INSERT but becomes visible at COMMIT, so a reader asking for
"position > last seen" can pass a position whose transaction commits later, and skip that event for ever.

Our remedy (rather than serialising every append behind one lock, which would cap write throughput): each row
records the id of the transaction that wrote it (tx_id, xid8). A reader only returns rows whose tx_id is below
the oldest transaction still running (pg_snapshot_xmin of its snapshot). Every transaction below that horizon has
finished, so no row can appear there later: reading in (tx_id, global_position) order from a checkpoint of the same
pair never skips anything and never goes backwards. (tx_id, global_position) is the primary key, so a batch is a
range of the index. The cost: a long-running transaction holds readers back (delay, never loss), so keep
transactions short.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from casefold_events.envelope import Envelope
from casefold_events.store.rows import COLUMNS, envelope_from_row

READ_ALL = f"""
    SELECT tx_id::text AS tx, global_position, {COLUMNS} FROM events
    WHERE (tx_id, global_position) > ($1::text::xid8, $2::bigint)
      AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY tx_id, global_position
    LIMIT $3
"""


@dataclass(frozen=True, order=True)
class Position:
    """A checkpoint in the global order: (writing transaction id, global position)."""

    tx_id: int = 0
    global_position: int = 0


START = Position()


async def read_all(
    conn: asyncpg.Connection | asyncpg.Pool, after: Position = START, limit: int = 1000
) -> list[tuple[Position, Envelope]]:
    """Up to limit events after `after`, each with its position; empty when caught up (for now)."""
    rows = await conn.fetch(READ_ALL, str(after.tx_id), after.global_position, limit)
    return [(Position(int(r["tx"]), r["global_position"]), envelope_from_row(r)) for r in rows]
