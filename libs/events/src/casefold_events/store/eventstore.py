"""Append and read streams; snapshots.

append() is one SQL statement: it checks the stream's current version, inserts the events, writes their outbox
rows (when the stream type has a topic) and notifies the relay, all inside the caller's transaction, so the
caller's read-model update commits or rolls back with it. It may ride in one statement with the caller's other
writes (casefold_events.writes). A caller on the hot path leaves the NOTIFY out (notify=False) and rings a doorbell
after COMMIT instead (casefold_events.doorbell: a NOTIFY in the transaction serialises every such commit).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final, Literal

import asyncpg

from casefold_events import writes
from casefold_events.contracts.base import Event, JsonLoader, registry
from casefold_events.envelope import Envelope, Metadata, RecordedEvent, new_event_id, utcnow
from casefold_events.store.errors import ConcurrencyError
from casefold_events.store.rows import COLUMNS, envelope_from_row
from casefold_events.writes import Write, Writes

ANY: Final = "any"
NO_STREAM: Final = "no_stream"
ExpectedVersion = int | Literal["any", "no_stream"]
OUTBOX_CHANNEL = "casefold_outbox"

# What varies per event travels as arrays; what one append shares (time, actor, correlation, trace) as scalars.
# Parameters: $1 stream_id, $2 stream_type, $3 event ids, $4 event types, $5 schema versions, $6 payloads (JSON
# text), $7 the expected version, $8 occurred_at, $9 actor id, $10 actor role, $11 correlation id,
# $12 causation id, $13 traceparent; $14 the outbox topic.
_INSERT_EVENTS = """
    INSERT INTO events (event_id, stream_id, stream_type, stream_version, event_type, schema_version, occurred_at,
                        actor_id, actor_role, correlation_id, causation_id, traceparent, payload)
    SELECT n.event_id, $1, $2, $7 + n.ord, n.event_type, n.schema_version, $8, $9, $10, $11, $12, $13, n.payload::jsonb
    FROM unnest($3::uuid[], $4::text[], $5::int[], $6::text[]) WITH ORDINALITY
        AS n(event_id, event_type, schema_version, payload, ord)
    WHERE (SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $1) = $7
    RETURNING event_id
"""

# One event (most commands) travels as scalars: arrays cost asyncpg and the server encoding, unnesting and
# numbering (about 7% of a one-event append, measured). Same parameters, $3-$6 one value each.
_INSERT_EVENT = """
    INSERT INTO events (event_id, stream_id, stream_type, stream_version, event_type, schema_version, occurred_at,
                        actor_id, actor_role, correlation_id, causation_id, traceparent, payload)
    SELECT $3, $1, $2, $7 + 1, $4, $5, $8, $9, $10, $11, $12, $13, $6::jsonb
    WHERE (SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $1) = $7
    RETURNING event_id
"""


_QUEUED = """
    INSERT INTO outbox (topic, message_key, stream_id, first_version, last_version)
    SELECT $14, $1, $1, $7 + 1, $7 + {count}
    WHERE EXISTS (SELECT 1 FROM inserted)
    RETURNING 1
"""


@dataclass(frozen=True)
class _Appends:
    """The append's writes (casefold_events.writes), their parameters still to be given; the results are the number
    of events inserted (and of outbox rows, and the NOTIFY's)."""

    plain: Write  # no topic: no outbox row
    with_outbox: Write  # the outbox row and the relay's NOTIFY
    with_outbox_quiet: Write  # the outbox row; the caller rings a doorbell after COMMIT (casefold_events.doorbell)

    def write(self, *, outbox: bool, notify: bool) -> Write:
        if not outbox:
            return self.plain
        return self.with_outbox if notify else self.with_outbox_quiet


def _append(insert: str, count: str) -> _Appends:
    counts = ("(SELECT count(*) FROM inserted)", "(SELECT count(*) FROM queued)")
    ctes = (("inserted", insert), ("queued", _QUEUED.format(count=count)))
    return _Appends(
        plain=Write(ctes=(("inserted", insert),), results=counts[:1]),
        with_outbox=Write(ctes=ctes, results=(*counts, f"pg_notify('{OUTBOX_CHANNEL}', '')")),
        with_outbox_quiet=Write(ctes=ctes, results=counts),
    )


APPEND = _append(_INSERT_EVENTS, "cardinality($3::uuid[])")
APPEND_ONE = _append(_INSERT_EVENT, "1")

CURRENT_VERSION = "SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $1"

# Time travel takes a PREFIX of the stream: the versions before the first event that occurred after $4. Timestamps
# come from each writer's clock, and replicas' clocks disagree: filtering on occurred_at alone could skip version 5
# and keep version 6 (folding a history that never existed).
_BEFORE_FIRST_LATER = """
    stream_version < coalesce(
        (SELECT min(l.stream_version) FROM events l WHERE l.stream_id = $1 AND l.occurred_at > $4),
        9223372036854775807)
"""

_RANGE = "stream_id = $1 AND stream_version > $2 AND stream_version <= $3"
_EVENT_COLUMNS = "stream_version, occurred_at, event_type, schema_version, payload::text AS payload"

# Without a time bound (every Repository load: until becomes a version first) the stream is read once: the prefix
# clause would scan the whole stream a second time for an occurred_at later than the end of time.
READ_STREAM = f"SELECT {COLUMNS} FROM events WHERE {_RANGE} ORDER BY stream_version"
READ_STREAM_UNTIL = f"SELECT {COLUMNS} FROM events WHERE {_RANGE} AND {_BEFORE_FIRST_LATER} ORDER BY stream_version"
READ_EVENTS = f"SELECT {_EVENT_COLUMNS} FROM events WHERE {_RANGE} ORDER BY stream_version"
READ_EVENTS_UNTIL = (
    f"SELECT {_EVENT_COLUMNS} FROM events WHERE {_RANGE} AND {_BEFORE_FIRST_LATER} ORDER BY stream_version"
)

VERSION_AT = """
    SELECT coalesce(
        (SELECT min(stream_version) - 1 FROM events WHERE stream_id = $1 AND occurred_at > $2),
        (SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $1))
"""

LOAD_SNAPSHOT = """
    SELECT stream_version, snapshot_version, state::text AS state FROM snapshots
    WHERE stream_id = $1 AND snapshot_version = $2 AND stream_version <= $3
"""

# The latest state in one round trip: the snapshot (if any) first, then the events after it.
LOAD_LATEST = """
    WITH snap AS (
        SELECT stream_version, state::text AS state FROM snapshots WHERE stream_id = $1 AND snapshot_version = $2
    )
    SELECT * FROM (
        SELECT true AS is_snapshot, stream_version, NULL::timestamptz AS occurred_at, NULL::text AS event_type,
               NULL::int AS schema_version, state AS payload
        FROM snap
        UNION ALL
        SELECT false, stream_version, occurred_at, event_type, schema_version, payload::text FROM events
        WHERE stream_id = $1 AND stream_version > coalesce((SELECT stream_version FROM snap), 0)
    ) AS latest
    ORDER BY is_snapshot DESC, stream_version
"""

SAVE_SNAPSHOT = """
    INSERT INTO snapshots (stream_id, stream_type, stream_version, snapshot_version, state)
    VALUES ($1, $2, $3, $4, $5::jsonb)
    ON CONFLICT (stream_id) DO UPDATE
        SET stream_version = EXCLUDED.stream_version, snapshot_version = EXCLUDED.snapshot_version,
            state = EXCLUDED.state, taken_at = now()
        WHERE snapshots.stream_version < EXCLUDED.stream_version
           OR snapshots.snapshot_version <> EXCLUDED.snapshot_version
"""

_MAX_VERSION = 2**31 - 1


def _upper(version: int | None) -> int:
    return _MAX_VERSION if version is None else version


@dataclass(frozen=True)
class Snapshot:
    stream_version: int
    snapshot_version: int
    state: dict[str, Any]


class EventStore:
    """The event store of one service's database. `topics` maps a stream type to the topic its events go to."""

    def __init__(self, *, topics: Mapping[str, str] | None = None) -> None:
        self.topics = dict(topics or {})

    async def current_version(self, conn: asyncpg.Connection, stream_id: str) -> int:
        return int(await conn.fetchval(CURRENT_VERSION, stream_id))

    async def append(
        self,
        conn: asyncpg.Connection,
        stream_id: str,
        stream_type: str,
        events: Sequence[Event],
        *,
        expected_version: ExpectedVersion,
        metadata: Metadata,
        occurred_at: datetime | None = None,
        defer: Writes | None = None,
        notify: bool = True,
    ) -> list[RecordedEvent]:
        """Append events after expected_version (an int, NO_STREAM or ANY); ConcurrencyError if it moved.

        Must run inside the caller's transaction: nothing is visible (or published) unless it commits. With defer,
        the append rides with the transaction's other writes (casefold_events.writes): it is sent, and its version
        checked, when defer is flushed; the recorded events are returned at once. notify=False leaves the relay's
        NOTIFY out of the transaction: the caller rings a Doorbell once it has committed (casefold_events.doorbell).
        """
        if not conn.is_in_transaction():
            raise RuntimeError("append() must run inside a transaction")
        if not events:
            return []
        if expected_version == ANY:
            base = await self.current_version(conn, stream_id)
        elif expected_version == NO_STREAM:
            base = 0
        else:
            base = int(expected_version)
        at = occurred_at or utcnow()  # the events of one append happen together
        # The hot path of every command: plain records keep the caller's event models (no payload dicts, no
        # validation again); each payload is serialised once, for the database.
        recorded = [
            RecordedEvent(new_event_id(), stream_id, stream_type, version, at, metadata, event)
            for version, event in enumerate(events, start=base + 1)
        ]
        shared = (base, at, metadata.actor.user_id, metadata.actor.role, metadata.correlation_id,
                  metadata.causation_id, metadata.traceparent)  # fmt: skip
        if len(events) == 1:
            event = events[0]
            params: tuple[Any, ...] = (stream_id, stream_type, recorded[0].event_id, event.event_type,
                                       event.schema_version, event.model_dump_json(), *shared)  # fmt: skip
            appends = APPEND_ONE
        else:
            params = (stream_id, stream_type, [r.event_id for r in recorded], [e.event_type for e in events],
                      [e.schema_version for e in events], [e.model_dump_json() for e in events], *shared)  # fmt: skip
            appends = APPEND
        topic = self.topics.get(stream_type)
        template = appends.write(outbox=topic is not None, notify=notify)
        args = params if topic is None else (*params, topic)

        def check(values: tuple[Any, ...]) -> None:
            if values[0] != len(recorded):
                raise ConcurrencyError(stream_id, expected_version)

        def translate(exc: asyncpg.PostgresError) -> Exception | None:
            unique = isinstance(exc, asyncpg.UniqueViolationError)
            moved = unique and exc.constraint_name == "events_stream_version_unique"
            return ConcurrencyError(stream_id, expected_version) if moved else None

        await writes.run(conn, replace(template, args=args, check=check, translate=translate), defer)
        return recorded

    async def read_stream(
        self,
        conn: asyncpg.Connection | asyncpg.Pool,
        stream_id: str,
        *,
        after_version: int = 0,
        to_version: int | None = None,
        until: datetime | None = None,
    ) -> list[Envelope]:
        """The stream's events after after_version, up to to_version and/or the prefix as of until, in order."""
        rows = await _fetch_range(conn, (READ_STREAM, READ_STREAM_UNTIL), stream_id, after_version, to_version, until)
        return [envelope_from_row(r) for r in rows]

    async def read_events(
        self,
        conn: asyncpg.Connection | asyncpg.Pool,
        stream_id: str,
        *,
        after_version: int = 0,
        to_version: int | None = None,
        until: datetime | None = None,
    ) -> Iterator[tuple[int, datetime, Event]]:
        """Like read_stream, but (stream_version, occurred_at, event) only: the fast path for rebuilding.

        The rows are fetched at once; each event is validated only when the iterator reaches it, so a fold keeps one
        decoded event alive at a time. (Decoding a whole stream into a list first keeps thousands of young objects
        alive, and the cyclic garbage collector then scans them again and again: it doubled replay time.)
        """
        queries = (READ_EVENTS, READ_EVENTS_UNTIL)
        return _decode(await _fetch_range(conn, queries, stream_id, after_version, to_version, until))

    async def version_at(self, conn: asyncpg.Connection | asyncpg.Pool, stream_id: str, at: datetime) -> int:
        """The stream's version as of `at`: the longest prefix of versions that all occurred at or before it (0: the
        stream did not exist yet). A prefix, not a timestamp filter: clock skew cannot fold a history that never was."""
        version: int = await conn.fetchval(VERSION_AT, stream_id, at)
        return version

    async def load_snapshot(
        self, conn: asyncpg.Connection | asyncpg.Pool, stream_id: str, snapshot_version: int, *, max_version: int | None
    ) -> Snapshot | None:
        row = await conn.fetchrow(LOAD_SNAPSHOT, stream_id, snapshot_version, _upper(max_version))
        if row is None:
            return None
        return Snapshot(row["stream_version"], row["snapshot_version"], json.loads(row["state"]))

    async def load_latest(
        self, conn: asyncpg.Connection | asyncpg.Pool, stream_id: str, snapshot_version: int
    ) -> tuple[Snapshot | None, Iterator[tuple[int, datetime, Event]]]:
        """load_snapshot and read_events after it, for the latest version, in one statement."""
        rows: list[asyncpg.Record] = await conn.fetch(LOAD_LATEST, stream_id, snapshot_version)
        snapshot = None
        if rows and rows[0]["is_snapshot"]:
            first = rows.pop(0)
            snapshot = Snapshot(first["stream_version"], snapshot_version, json.loads(first["payload"]))
        return snapshot, _decode([r[1:] for r in rows])

    async def save_snapshot(
        self,
        conn: asyncpg.Connection,
        stream_id: str,
        stream_type: str,
        snapshot: Snapshot,
        *,
        defer: Writes | None = None,
    ) -> None:
        state = json.dumps(snapshot.state, separators=(",", ":"))
        args = (stream_id, stream_type, snapshot.stream_version, snapshot.snapshot_version, state)
        await writes.run(conn, Write(ctes=(("saved", SAVE_SNAPSHOT),), args=args), defer)


async def _fetch_range(
    conn: asyncpg.Connection | asyncpg.Pool,
    queries: tuple[str, str],
    stream_id: str,
    after_version: int,
    to_version: int | None,
    until: datetime | None,
) -> list[asyncpg.Record]:
    """One stream's rows after after_version, up to to_version and the prefix as of until (None: no bound).

    queries: the statement without a time bound and the one with it.
    """
    if until is None:
        rows: list[asyncpg.Record] = await conn.fetch(queries[0], stream_id, after_version, _upper(to_version))
    else:
        rows = await conn.fetch(queries[1], stream_id, after_version, _upper(to_version), until)
    return rows


def _decode(rows: list[asyncpg.Record]) -> Iterator[tuple[int, datetime, Event]]:
    loaders: dict[tuple[str, int], JsonLoader] = {}
    for version, occurred_at, event_type, schema_version, payload in rows:
        load = loaders.get((event_type, schema_version))
        if load is None:
            load = loaders[event_type, schema_version] = registry.json_loader(event_type, schema_version)
        yield version, occurred_at, load(payload)
