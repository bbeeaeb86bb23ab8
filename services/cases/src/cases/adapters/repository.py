"""The Case repository: the shared Repository, loading whole envelopes so the aggregate knows when things happened.

The shared Repository.load folds bare events (no occurred_at); a case renders opened_at, comment times and
closed_at from its own events (time travel needs no read model), so it replays envelopes instead.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from casefold_events.store import EventStore, Repository
from cases.domain.model import Case


class CaseRepository(Repository[Case]):
    def __init__(self, store: EventStore, *, snapshot_every: int | None = None) -> None:
        super().__init__(store, Case, snapshot_every=snapshot_every)

    async def load(
        self,
        conn: asyncpg.Connection | asyncpg.Pool,
        stream_id: str,
        *,
        to_version: int | None = None,
        until: datetime | None = None,
    ) -> Case:
        """The case at its latest version, or as of to_version / until. Version 0: no such case."""
        case = Case(stream_id)
        if self.snapshot_every and until is None:
            snap = await self.store.load_snapshot(conn, stream_id, Case.snapshot_version, max_version=to_version)
            if snap is not None:
                case = Case.from_snapshot(stream_id, snap.state)
                case.version = snap.stream_version
        envelopes = await self.store.read_stream(
            conn, stream_id, after_version=case.version, to_version=to_version, until=until
        )
        return case.replay(envelopes)
