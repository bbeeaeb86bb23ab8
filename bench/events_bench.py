"""libs/events benchmarks: append, replay, relay; each beside a raw baseline and the eventsourcing library.

uv run python -m bench events [--quick]
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any, Self
from urllib.parse import urlsplit

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.harness import Infra, Result, alternating, interleaved, median, print_table, write_results
from casefold_events.contracts import CommentAdded
from casefold_events.contracts.base import Event
from casefold_events.envelope import Actor, Metadata, encode, kafka_headers, new_event_id
from casefold_events.migrate import migrate, shared_migrations
from casefold_events.relay import PRODUCER_DEFAULTS, OutboxRelay
from casefold_events.store import NO_STREAM, Aggregate, EventStore, Repository
from casefold_local.databases import create_database

META = Metadata(actor=Actor(user_id=uuid.uuid4(), role="customer"), correlation_id=uuid.uuid4())
BODY = "The export job fails with a timeout after the upgrade; logs attached. " * 3

RAW_TABLE = """
CREATE TABLE IF NOT EXISTS raw_events (
    global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, event_id uuid NOT NULL UNIQUE,
    stream_id text NOT NULL, stream_type text NOT NULL, stream_version int NOT NULL, event_type text NOT NULL,
    schema_version int NOT NULL, occurred_at timestamptz NOT NULL, actor_id uuid, actor_role text NOT NULL,
    correlation_id uuid, causation_id uuid, traceparent text, payload jsonb NOT NULL,
    UNIQUE (stream_id, stream_version))
"""
RAW_INSERT = """
INSERT INTO raw_events (event_id, stream_id, stream_type, stream_version, event_type, schema_version, occurred_at,
                        actor_id, actor_role, correlation_id, payload)
VALUES ($1, $2, 'thread', $3, 'CommentAdded', 1, now(), $4, 'customer', $5, $6::jsonb)
"""
RAW_INSERT_BATCH = """
INSERT INTO raw_events (event_id, stream_id, stream_type, stream_version, event_type, schema_version, occurred_at,
                        actor_id, actor_role, correlation_id, payload)
SELECT e, $2, 'thread', v, 'CommentAdded', 1, now(), $3, 'customer', $4, p::jsonb
FROM unnest($1::uuid[], $5::int[], $6::text[]) AS t(e, v, p)
"""
RAW_FETCH = "SELECT * FROM events WHERE stream_id = $1 ORDER BY stream_version"


def comment() -> CommentAdded:
    return CommentAdded(case_id=uuid.uuid4(), comment_id=uuid.uuid4(), author_id=uuid.uuid4(),
                        author_role="customer", body=BODY)  # fmt: skip


def payload() -> str:
    return comment().model_dump_json()


class Thread(Aggregate):
    stream_type = "thread"

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.comments = 0
        self.last_body = ""

    def apply(self, event: Event) -> None:
        assert isinstance(event, CommentAdded)
        self.comments += 1
        self.last_body = event.body

    def to_snapshot(self) -> dict[str, Any]:
        return {"comments": self.comments, "last_body": self.last_body}

    @classmethod
    def from_snapshot(cls, stream_id: str, state: dict[str, Any]) -> Self:
        thread = cls(stream_id)
        thread.comments, thread.last_body = state["comments"], state["last_body"]
        return thread


async def bench_append(conn: asyncpg.Connection, n: int) -> list[Result]:
    store = EventStore(topics={"thread": "bench.events"})

    async def ours_single() -> None:
        async with conn.transaction():
            await store.append(conn, str(uuid.uuid4()), "thread", [comment()], expected_version=NO_STREAM,
                               metadata=META)  # fmt: skip

    async def raw_single() -> None:
        async with conn.transaction():
            await conn.execute(RAW_INSERT, new_event_id(), str(uuid.uuid4()), 1, META.actor.user_id,
                               META.correlation_id, payload())  # fmt: skip

    async def ours_batch() -> None:
        async with conn.transaction():
            await store.append(conn, str(uuid.uuid4()), "thread", [comment() for _ in range(100)],
                               expected_version=NO_STREAM, metadata=META)  # fmt: skip

    async def raw_batch() -> None:
        async with conn.transaction():
            await conn.execute(RAW_INSERT_BATCH, [new_event_id() for _ in range(100)], str(uuid.uuid4()),
                               META.actor.user_id, META.correlation_id, list(range(1, 101)),
                               [payload() for _ in range(100)])  # fmt: skip

    single = await alternating(ours_single, raw_single, n)
    batch = await alternating(ours_batch, raw_batch, n // 2)
    return [
        Result("append 1 event + outbox row per transaction", "events/s", *single.per_second(),
               "raw INSERT+COMMIT", ">= 0.8x baseline", *single.spread(lambda t: 1 / t)),
        Result("append 100-event batches + outbox rows", "events/s", *batch.per_second(100),
               "raw 100-row INSERT+COMMIT", ">= 0.8x baseline", *batch.spread(lambda t: 100 / t)),
    ]  # fmt: skip


def bench_eventsourcing_library(dsn: str, n: int, rounds: int, ours: list[Result]) -> list[Result]:
    """The eventsourcing library's PostgreSQL application recorder, same volume (it is synchronous: psycopg 3)."""
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

    url = urlsplit(dsn)
    datastore = PostgresDatastore(dbname=url.path.lstrip("/"), host=url.hostname or "127.0.0.1", port=url.port or 5432,
                                  user=url.username or "postgres", password=url.password or "")  # fmt: skip
    recorder = PostgresApplicationRecorder(datastore, events_table_name="es_stored_events")
    recorder.create_table()
    state = payload().encode()
    topic = "bench:CommentAdded"

    def single() -> float:
        start = time.perf_counter()
        for _ in range(n):
            recorder.insert_events([StoredEvent(uuid.uuid4(), 1, topic, state)])
        return n / (time.perf_counter() - start)

    batches = max(10, n // 20)  # the same volume as ours (bench_append)

    def batch() -> float:
        start = time.perf_counter()
        for _ in range(batches):
            originator = uuid.uuid4()
            recorder.insert_events([StoredEvent(originator, v, topic, state) for v in range(1, 101)])
        return 100 * batches / (time.perf_counter() - start)

    single()
    batch()
    es_single = [single() for _ in range(rounds)]
    es_batch = [batch() for _ in range(rounds)]
    originator = uuid.uuid4()
    for start in range(1, 1001, 100):
        recorder.insert_events([StoredEvent(originator, v, topic, state) for v in range(start, start + 100)])

    def read() -> float:
        t = time.perf_counter()
        events = recorder.select_events(originator)
        assert len(events) == 1000
        return (time.perf_counter() - t) * 1000

    read()
    es_read = [read() for _ in range(rounds * 3)]
    datastore.close()
    return [
        Result("append 1 event/tx vs eventsourcing", "events/s", ours[0].ours, median(es_single),
               "eventsourcing 9.5.6 PostgresApplicationRecorder", "ahead (> 1.0x)", ours[0].samples_ours, es_single),
        Result("append 100-event batches vs eventsourcing", "events/s", ours[1].ours, median(es_batch),
               "eventsourcing 9.5.6 PostgresApplicationRecorder", "ahead (> 1.0x)", ours[1].samples_ours, es_batch),
        Result("read a 1,000-event stream vs eventsourcing", "ms", 0.0, median(es_read),
               "eventsourcing select_events (no decode)", "", [], es_read, higher_is_better=False),
    ]  # fmt: skip


async def bench_replay(pool: asyncpg.Pool) -> list[Result]:
    store = EventStore()
    stream = str(uuid.uuid4())
    async with pool.acquire() as conn:
        for start in range(0, 1000, 100):
            async with conn.transaction():
                await store.append(conn, stream, "thread", [comment() for _ in range(100)], expected_version=start,
                                   metadata=META)  # fmt: skip
        async with conn.transaction():
            snapshotting = Repository(store, Thread, snapshot_every=1000)
            thread = await snapshotting.load(conn, stream)
            assert thread.version == 1000
            await store.save_snapshot(conn, stream, "thread", _snapshot(thread))
    plain = Repository(store, Thread)

    async with pool.acquire() as conn:
        replays = await alternating(lambda: plain.load(conn, stream), lambda: conn.fetch(RAW_FETCH, stream), 300)
        snapshots = await alternating(lambda: snapshotting.load(conn, stream), lambda: plain.load(conn, stream), 300)
    return [
        Result("replay 1,000-event stream into an aggregate", "ms", *replays.milliseconds(),
               "raw fetch of the same rows", "<= 2x baseline", *replays.spread(lambda t: 1000 * t),
               higher_is_better=False),
        Result("load the same aggregate from a snapshot", "ms", *snapshots.milliseconds(),
               "full replay (row above)", ">= 5x faster (<= 0.2)", *snapshots.spread(lambda t: 1000 * t),
               higher_is_better=False),
    ]  # fmt: skip


def _snapshot(thread: Thread) -> Any:
    from casefold_events.store import Snapshot

    return Snapshot(thread.version, Thread.snapshot_version, thread.to_snapshot())


async def bench_relay(dsn: str, pool: asyncpg.Pool, bootstrap: str, n: int, rounds: int) -> list[Result]:
    """The relay against a raw producer sending the very same messages (values and headers) with the same options."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    topics = [f"bench.relay.{uuid.uuid4().hex[:8]}", f"bench.raw.{uuid.uuid4().hex[:8]}"]
    await admin.create_topics([NewTopic(t, num_partitions=1, replication_factor=1) for t in topics])
    await admin.close()
    store = EventStore(topics={"thread": topics[0]})
    messages: list[tuple[bytes, bytes, list[tuple[str, bytes]]]] = []

    async def relay_run() -> float:
        async with pool.acquire() as conn:
            await conn.execute("UPDATE outbox SET published_at = now() WHERE published_at IS NULL")
            for start in range(0, n, 100):
                async with conn.transaction():
                    written = await store.append(conn, str(uuid.uuid4()), "thread",
                                                 [comment() for _ in range(min(100, n - start))],
                                                 expected_version=NO_STREAM, metadata=META)  # fmt: skip
                if not messages or len(messages) < n:
                    messages.extend((encode(e), e.stream_id.encode(), kafka_headers(e)) for e in written)
        relay = OutboxRelay(dsn, bootstrap, "bench", batch_size=1000)
        started = time.perf_counter()
        await relay.start()
        while relay.published < n:
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - started
        await relay.stop()
        return n / elapsed

    async def raw_producer() -> float:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                                    **PRODUCER_DEFAULTS)  # fmt: skip
        started = time.perf_counter()
        await producer.start()
        futures = [
            await producer.send(topics[1], value, key=key, headers=headers) for value, key, headers in messages[:n]
        ]
        await asyncio.gather(*futures)
        elapsed = time.perf_counter() - started
        await producer.stop()
        return n / elapsed

    ours, raw = await interleaved(relay_run, raw_producer, rounds)
    return [
        Result("relay outbox -> Kafka (acks=all, marked)", "events/s", median(ours), median(raw),
               "raw aiokafka producer, same messages", "report", ours, raw),
    ]  # fmt: skip


async def run(infra: Infra, quick: bool = False) -> list[Result]:
    n, rounds = (300, 3) if quick else (2000, 5)
    dsn = await create_database(infra.postgres_dsn, "bench_events")
    await migrate(dsn, [shared_migrations()])
    pool = await asyncpg.create_pool(dsn, min_size=2, max_size=4)
    try:
        async with pool.acquire() as conn:
            await conn.execute(RAW_TABLE)
            results = await bench_append(conn, n)
        results += await asyncio.to_thread(bench_eventsourcing_library, dsn, n, rounds, results)
        replay = await bench_replay(pool)
        es_read = results[-1]
        es_read.ours = replay[0].ours
        es_read.samples_ours = replay[0].samples_ours
        es_read.name = "replay 1,000 events (decoded) vs eventsourcing read"
        results += replay
        results += await bench_relay(dsn, pool, infra.kafka_bootstrap, n * 2, rounds)
    finally:
        await pool.close()
    print_table("libs/events", results)
    print(f"\nwrote {write_results('events', results, {'n': n, 'rounds': rounds})}")
    return results
