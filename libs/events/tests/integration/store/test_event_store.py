"""The event store on a real PostgreSQL: expected-version semantics, concurrency, reads, snapshots, outbox."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from events_builders import META, Thread, comment

from casefold_events.contracts import CommentAdded
from casefold_events.envelope import Metadata
from casefold_events.migrate import migrate, shared_migrations
from casefold_events.store import ANY, NO_STREAM, ConcurrencyError, EventStore, Repository, in_transaction

pytestmark = pytest.mark.integration


def _stream() -> str:
    return str(uuid.uuid4())


async def test_append_then_read_stream_returns_the_events_in_order(pool: asyncpg.Pool) -> None:
    store, stream = EventStore(), _stream()
    async with pool.acquire() as conn, conn.transaction():
        written = await store.append(
            conn, stream, "thread", [comment(body="a"), comment(body="b")], expected_version=NO_STREAM, metadata=META
        )

    read = await store.read_stream(pool, stream)

    assert [e.stream_version for e in read] == [1, 2]
    assert [e.event_id for e in read] == [e.event_id for e in written]
    assert [e.event().body for e in read if isinstance(e.event(), CommentAdded)] == ["a", "b"]  # type: ignore[attr-defined]
    assert read[0].actor == META.actor


async def test_what_append_returns_is_exactly_what_the_store_recorded(pool: asyncpg.Pool) -> None:
    store, stream = EventStore(), _stream()
    metadata = Metadata(actor=META.actor, correlation_id=uuid.uuid4(), causation_id=uuid.uuid4(),
                        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")  # fmt: skip
    async with pool.acquire() as conn, conn.transaction():
        await store.append(conn, stream, "thread", [comment()], expected_version=NO_STREAM, metadata=META)
        written = await store.append(
            conn, stream, "thread", [comment(body="x"), comment(body="y")], expected_version=1, metadata=metadata
        )

    assert [r.stream_version for r in written] == [2, 3]
    assert [r.envelope() for r in written] == await store.read_stream(pool, stream, after_version=1)


async def test_replay_decodes_each_stored_event_into_its_contract(pool: asyncpg.Pool) -> None:
    store, stream = EventStore(), _stream()
    events = [comment(body=f"b{i}") for i in range(5)]
    async with pool.acquire() as conn, conn.transaction():
        await store.append(conn, stream, "thread", events, expected_version=NO_STREAM, metadata=META)

    replayed = list(await store.read_events(pool, stream, after_version=1, to_version=4))

    assert [(version, event) for version, _, event in replayed] == [(v, events[v - 1]) for v in (2, 3, 4)]


@pytest.mark.parametrize("topics", [{}, {"thread": "threads.events.v1"}], ids=["no-outbox", "outbox"])
@pytest.mark.parametrize("expected", [NO_STREAM, 0, 2, 5])
async def test_append_at_a_stale_version_raises_concurrency_error(
    pool: asyncpg.Pool, expected: object, topics: dict[str, str]
) -> None:
    store, stream = EventStore(topics=topics), _stream()
    async with pool.acquire() as conn, conn.transaction():
        await store.append(conn, stream, "thread", [comment()], expected_version=NO_STREAM, metadata=META)

    with pytest.raises(ConcurrencyError):
        async with pool.acquire() as conn, conn.transaction():
            await store.append(conn, stream, "thread", [comment()], expected_version=expected, metadata=META)  # type: ignore[arg-type]

    assert len(await store.read_stream(pool, stream)) == 1
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE message_key = $1", stream) == len(topics)


async def test_append_with_any_goes_after_the_current_version(pool: asyncpg.Pool) -> None:
    store, stream = EventStore(), _stream()
    for _ in range(3):
        async with pool.acquire() as conn, conn.transaction():
            await store.append(conn, stream, "thread", [comment()], expected_version=ANY, metadata=META)

    assert [e.stream_version for e in await store.read_stream(pool, stream)] == [1, 2, 3]


async def test_sixteen_concurrent_appenders_one_winner_per_version_nothing_lost(pool: asyncpg.Pool) -> None:
    repo, stream = Repository(EventStore(), Thread), _stream()
    per_writer = 5
    conflicts = 0

    async def writer(n: int) -> None:
        nonlocal conflicts
        for i in range(per_writer):
            while True:
                try:
                    async with pool.acquire() as conn, conn.transaction():
                        thread = await repo.load(conn, stream)
                        await repo.save(conn, thread, [comment(body=f"w{n}-{i}")], META)
                    break
                except ConcurrencyError:
                    conflicts += 1

    await asyncio.gather(*(writer(n) for n in range(16)))

    events = await EventStore().read_stream(pool, stream)
    assert [e.stream_version for e in events] == list(range(1, 16 * per_writer + 1))
    bodies = [e.payload["body"] for e in events]
    assert sorted(bodies) == sorted(f"w{n}-{i}" for n in range(16) for i in range(per_writer))
    for n in range(16):  # each writer's own events stay in its order
        mine = [b for b in bodies if b.startswith(f"w{n}-")]
        assert mine == [f"w{n}-{i}" for i in range(per_writer)]
    assert conflicts > 0  # the guard was exercised, not bypassed


async def test_in_transaction_retries_conflicts_then_gives_up(pool: asyncpg.Pool) -> None:
    calls = 0

    async def always_conflicts(conn: asyncpg.Connection) -> None:
        nonlocal calls
        calls += 1
        raise ConcurrencyError("s", 1)

    with pytest.raises(ConcurrencyError):
        await in_transaction(pool, always_conflicts, retries=2)
    assert calls == 3


async def test_a_transaction_begun_with_a_first_statement_commits_or_rolls_back(pool: asyncpg.Pool) -> None:
    await pool.execute("CREATE TABLE IF NOT EXISTS begun_with_probe (n int)")
    first = "SELECT pg_advisory_xact_lock_shared(4242)"

    async def insert(conn: asyncpg.Connection) -> int:
        assert conn.is_in_transaction()
        held = await conn.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 "
                                   "AND pid = pg_backend_pid()")  # fmt: skip
        await conn.execute("INSERT INTO begun_with_probe VALUES (1)")
        return int(held)

    async def insert_then_fail(conn: asyncpg.Connection) -> None:
        await conn.execute("INSERT INTO begun_with_probe VALUES (2)")
        raise ValueError("refused")

    assert await in_transaction(pool, insert, first=first) == 1
    with pytest.raises(ValueError, match="refused"):
        await in_transaction(pool, insert_then_fail, first=first)

    assert [r["n"] for r in await pool.fetch("SELECT n FROM begun_with_probe")] == [1]


async def test_time_travel_reads_a_stream_as_of_a_version_or_a_time(pool: asyncpg.Pool) -> None:
    store, repo, stream = EventStore(), Repository(EventStore(), Thread), _stream()
    t0 = datetime.now(UTC)
    for i in range(4):
        async with pool.acquire() as conn, conn.transaction():
            await store.append(
                conn, stream, "thread", [comment(body=f"c{i}")], expected_version=i, metadata=META,
                occurred_at=t0 + timedelta(minutes=i),
            )  # fmt: skip

    assert (await repo.load(pool, stream, to_version=2)).bodies == ["c0", "c1"]
    as_of = await repo.load(pool, stream, until=t0 + timedelta(minutes=2, seconds=30))
    assert as_of.bodies == ["c0", "c1", "c2"]
    assert as_of.version == 3
    assert (await repo.load(pool, stream)).bodies == ["c0", "c1", "c2", "c3"]


async def test_snapshots_are_taken_every_n_events_and_used_on_load(pool: asyncpg.Pool) -> None:
    repo, stream = Repository(EventStore(), Thread, snapshot_every=10), _stream()
    for i in range(25):
        async with pool.acquire() as conn, conn.transaction():
            thread = await repo.load(conn, stream)
            await repo.save(conn, thread, [comment(body=str(i))], META)

    row = await pool.fetchrow("SELECT stream_version, state FROM snapshots WHERE stream_id = $1", stream)
    assert row is not None
    assert row["stream_version"] == 20

    # Tamper with the snapshot: if load() uses it, the tampered state shows; events after 20 still replay.
    await pool.execute(
        """UPDATE snapshots SET state = jsonb_set(state, '{bodies,0}', '"from-snapshot"') WHERE stream_id = $1""",
        stream,
    )
    loaded = await repo.load(pool, stream)
    assert loaded.version == 25
    assert loaded.bodies[0] == "from-snapshot"
    assert loaded.bodies[20:] == ["20", "21", "22", "23", "24"]


async def test_outbox_rows_are_written_in_the_append_transaction(pool: asyncpg.Pool) -> None:
    store, stream = EventStore(topics={"thread": "threads.events.v1"}), _stream()
    async with pool.acquire() as conn, conn.transaction():
        written = await store.append(
            conn, stream, "thread", [comment(), comment()], expected_version=NO_STREAM, metadata=META
        )

    rows = await pool.fetch(
        "SELECT topic, message_key, stream_id, first_version, last_version FROM outbox WHERE message_key = $1", stream
    )
    # One outbox row per append: the slice of the stream the relay publishes, in version order.
    assert [tuple(r.values()) for r in rows] == [("threads.events.v1", stream, stream, 1, len(written))]


async def test_a_rolled_back_append_leaves_nothing_behind(pool: asyncpg.Pool) -> None:
    store, stream = EventStore(topics={"thread": "threads.events.v1"}), _stream()
    with pytest.raises(RuntimeError, match="read model failed"):
        async with pool.acquire() as conn, conn.transaction():
            await store.append(conn, stream, "thread", [comment()], expected_version=NO_STREAM, metadata=META)
            raise RuntimeError("read model failed")

    assert await store.read_stream(pool, stream) == []
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE message_key = $1", stream) == 0


async def test_append_outside_a_transaction_is_refused(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError, match="inside a transaction"):
            await EventStore().append(conn, _stream(), "thread", [comment()], expected_version=ANY, metadata=META)


async def test_migrations_run_twice_apply_nothing_the_second_time(database: str) -> None:
    assert await migrate(database, [shared_migrations()]) == []
