"""libs/events benchmarks: append, replay, relay; each beside a raw baseline and the eventsourcing library.

uv run python -m bench events [--quick]
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import urlsplit

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.harness import Infra, Result, alternating, interleaved, median, percentile, print_table, write_results
from casefold_events.consumer import ConsumerRunner
from casefold_events.contracts import CommentAdded
from casefold_events.contracts.base import Event
from casefold_events.envelope import Actor, Envelope, Metadata, encode, kafka_headers, new_event_id
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
APPEND_1 = "append 1 event + outbox row per transaction"
REPLAY = "replay 1,000-event stream into an aggregate"
RELAY = "relay outbox -> Kafka (acks=all, marked)"
ROUNDS = 5  # the targets hold on the median of five alternating rounds, not on one good run


@dataclass
class Rounds:
    """Several alternating rounds of one comparison: each round's (ours, baseline), and the round with the median
    ratio, whose pair of figures the table reports (two figures measured side by side, not medians of different
    rounds)."""

    ours: list[float]
    baseline: list[float]
    higher_is_better: bool = True

    @property
    def ratios(self) -> list[float]:
        return [o / b for o, b in zip(self.ours, self.baseline, strict=True)]

    def median_round(self) -> tuple[float, float]:
        ranked = sorted(range(len(self.ours)), key=lambda i: self.ratios[i])
        i = ranked[len(ranked) // 2]
        return self.ours[i], self.baseline[i]

    def result(self, name: str, unit: str, baseline_name: str, target: str) -> Result:
        ours, baseline = self.median_round()
        return Result(name, unit, ours, baseline, baseline_name, target, self.ours, self.baseline,
                      higher_is_better=self.higher_is_better)  # fmt: skip


async def alternating_rounds(
    ours: Callable[[], Awaitable[Any]],
    baseline: Callable[[], Awaitable[Any]],
    n: int,
    figure: Callable[[float], float],
    rounds: int = ROUNDS,
    higher_is_better: bool = True,
) -> Rounds:
    """`rounds` rounds of `alternating` (n operations each), each reduced to figure(median operation time)."""
    result = Rounds([], [], higher_is_better)
    for _ in range(rounds):
        timed = await alternating(ours, baseline, n)
        result.ours.append(figure(median(timed.ours)))
        result.baseline.append(figure(median(timed.baseline)))
    return result


def spread_of(results: list[Result], rounds: dict[str, Rounds]) -> dict[str, dict[str, Any]]:
    """Per multi-round figure: every round's ratio, their median, min and max (what the JSON and the table show)."""
    out: dict[str, dict[str, Any]] = {}
    for name, r in rounds.items():
        ratios = r.ratios
        out[name] = {"rounds": len(ratios), "ratios": [round(x, 3) for x in ratios], "median": median(ratios),
                     "min": min(ratios), "max": max(ratios)}  # fmt: skip
    return out


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


async def bench_append(conn: asyncpg.Connection, n: int, spreads: dict[str, Rounds]) -> list[Result]:
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

    single = await alternating_rounds(ours_single, raw_single, n, lambda t: 1 / t)
    spreads[APPEND_1] = single
    batch = await alternating(ours_batch, raw_batch, n // 2)
    return [
        single.result(APPEND_1, "events/s", "raw INSERT+COMMIT", ">= 0.8x baseline"),
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


async def bench_replay(pool: asyncpg.Pool, per_round: int, spreads: dict[str, Rounds]) -> list[Result]:
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
        replays = await alternating_rounds(lambda: plain.load(conn, stream), lambda: conn.fetch(RAW_FETCH, stream),
                                           per_round, lambda t: 1000 * t, higher_is_better=False)  # fmt: skip
        snapshots = await alternating(lambda: snapshotting.load(conn, stream), lambda: plain.load(conn, stream), 300)
    spreads[REPLAY] = replays
    return [
        replays.result(REPLAY, "ms", "raw fetch of the same rows", "<= 2x baseline"),
        Result("load the same aggregate from a snapshot", "ms", *snapshots.milliseconds(),
               "full replay (row above)", ">= 5x faster (<= 0.2)", *snapshots.spread(lambda t: 1000 * t),
               higher_is_better=False),
    ]  # fmt: skip


def _snapshot(thread: Thread) -> Any:
    from casefold_events.store import Snapshot

    return Snapshot(thread.version, Thread.snapshot_version, thread.to_snapshot())


async def new_topics(bootstrap: str, *prefixes: str) -> list[str]:
    """One fresh one-partition topic per prefix."""
    topics = [f"{prefix}.{uuid.uuid4().hex[:8]}" for prefix in prefixes]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(t, num_partitions=1, replication_factor=1) for t in topics])
    finally:
        await admin.close()
    return topics


async def bench_relay(
    dsn: str, pool: asyncpg.Pool, bootstrap: str, n: int, rounds: int, spreads: dict[str, Rounds]
) -> list[Result]:
    """The relay against a raw producer sending the same messages (values, keys, headers) with the same producer
    settings: acks=all, idempotence, PRODUCER_DEFAULTS (linger 0, 256 KiB batches), no compression on either side.

    Both are warm (the relay leading and listening, the producer started): each round times the steady work, from
    the commit of n events (in 100-event appends, one transaction; the relay hears of it by NOTIFY) until the relay
    has marked them all; the baseline from its first send until the broker acknowledged the last. The relay's
    values are PostgreSQL's JSON text of the envelope, a few per cent longer than the baseline's compact ones.
    """
    topics = await new_topics(bootstrap, "bench.relay", "bench.raw")
    store = EventStore(topics={"thread": topics[0]})
    messages: list[tuple[bytes, bytes, list[tuple[str, bytes]]]] = []
    await pool.execute("UPDATE outbox SET published_at = now() WHERE published_at IS NULL")
    relay = OutboxRelay(dsn, bootstrap, "bench", batch_size=1000)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, **PRODUCER_DEFAULTS)

    async def relay_run() -> float:
        target = relay.published + n
        async with pool.acquire() as conn:
            async with conn.transaction():
                for start in range(0, n, 100):
                    written = await store.append(conn, str(uuid.uuid4()), "thread",
                                                 [comment() for _ in range(min(100, n - start))],
                                                 expected_version=NO_STREAM, metadata=META)  # fmt: skip
                    if len(messages) < n:
                        messages.extend((encode(e), e.stream_id.encode(), kafka_headers(e)) for e in written)
            started = time.perf_counter()
        while relay.published < target:
            await asyncio.sleep(0.001)
        return n / (time.perf_counter() - started)

    async def raw_producer() -> float:
        started = time.perf_counter()
        futures = [
            await producer.send(topics[1], value, key=key, headers=headers) for value, key, headers in messages[:n]
        ]
        await asyncio.gather(*futures)
        return n / (time.perf_counter() - started)

    await relay.start()
    await producer.start()
    try:
        async with asyncio.timeout(60):
            while not relay.is_leader:
                await asyncio.sleep(0.01)
        ours, raw = await interleaved(relay_run, raw_producer, rounds)
    finally:
        await producer.stop()
        await relay.stop()
    spreads[RELAY] = relayed = Rounds(ours, raw)
    return [relayed.result(RELAY, "events/s", "raw aiokafka producer, same messages and settings", ">= 0.5x baseline")]


async def bench_latency(dsn: str, pool: asyncpg.Pool, bootstrap: str, n: int) -> list[Result]:
    """Commit -> consumed, one event at a time: append + COMMIT, the relay (woken by NOTIFY), Kafka, the shared
    ConsumerRunner's handler; beside a raw producer's send -> a raw consumer's receipt (aiokafka defaults but the
    producer settings the relay uses), alternating message by message."""
    topics = await new_topics(bootstrap, "bench.latency", "bench.latency.raw")
    store = EventStore(topics={"thread": topics[0]})
    arrived: dict[str, asyncio.Future[float]] = {}

    def seen(key: str) -> None:
        waiter = arrived.get(key)
        if waiter is not None and not waiter.done():
            waiter.set_result(time.perf_counter())

    async def handler(_: asyncpg.Connection, envelope: Envelope) -> None:
        seen(envelope.stream_id)

    async with pool.acquire() as conn:
        await conn.execute("UPDATE outbox SET published_at = now() WHERE published_at IS NULL")
    relay = OutboxRelay(dsn, bootstrap, "bench-latency")
    consumer = ConsumerRunner(f"bench-latency-{uuid.uuid4().hex[:6]}", bootstrap, [topics[0]], pool, handler)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, **PRODUCER_DEFAULTS)
    # The baseline reads its partition without a group (nothing to join); ours is the group consumer services use.
    raw_consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")

    async def raw_consume() -> None:
        async for record in raw_consumer:
            seen((record.key or b"").decode())

    await relay.start()
    await consumer.start()
    await producer.start()
    await raw_consumer.start()
    raw_consumer.assign([TopicPartition(topics[1], 0)])
    await asyncio.wait_for(consumer.assigned.wait(), 120)  # the group joined (a fresh broker's coordinator is slow)
    raw_task = asyncio.create_task(raw_consume())
    ours: list[float] = []
    raw: list[float] = []
    try:
        for i in range(n + 10):  # the first ten warm both paths up (metadata, group join)
            stream = str(uuid.uuid4())
            arrived[stream] = asyncio.get_running_loop().create_future()
            async with pool.acquire() as conn:
                async with conn.transaction():
                    written = await store.append(conn, stream, "thread", [comment()], expected_version=NO_STREAM,
                                                 metadata=META)  # fmt: skip
                # From the moment the commit is acknowledged (what an accepted request waits for): the consumer may
                # even be first, the relay hearing of the commit while this loop is still reading the reply.
                committed = time.perf_counter()
            took = await asyncio.wait_for(arrived[stream], 30) - committed
            key = str(uuid.uuid4())
            arrived[key] = asyncio.get_running_loop().create_future()
            sent = time.perf_counter()
            await producer.send(topics[1], encode(written[0]), key=key.encode(), headers=kafka_headers(written[0]))
            raw_took = await asyncio.wait_for(arrived[key], 30) - sent
            del arrived[stream], arrived[key]
            if i >= 10:
                ours.append(1000 * took)
                raw.append(1000 * raw_took)
            await asyncio.sleep(random.uniform(0.005, 0.03))  # not in step with any poll or linger period
    finally:
        raw_task.cancel()
        await asyncio.gather(raw_task, return_exceptions=True)
        await raw_consumer.stop()
        await producer.stop()
        await consumer.stop()
        await relay.stop()
    return [
        Result("commit -> consumed latency p50", "ms", percentile(ours, 50), percentile(raw, 50),
               "raw produce -> consume p50", "report (system: <= 100 ms)", ours, raw, higher_is_better=False),
        Result("commit -> consumed latency p99", "ms", percentile(ours, 99), percentile(raw, 99),
               "raw produce -> consume p99", "report (system: <= 300 ms)", [], [], higher_is_better=False),
    ]  # fmt: skip


async def run(infra: Infra, quick: bool = False) -> list[Result]:
    n, rounds = (300, 3) if quick else (2000, 5)
    per_round = (n // 2, 40) if quick else (n // 2, 150)
    dsn = await create_database(infra.postgres_dsn, "bench_events")
    await migrate(dsn, [shared_migrations()])
    pool = await asyncpg.create_pool(dsn, min_size=2, max_size=4)
    spreads: dict[str, Rounds] = {}
    try:
        async with pool.acquire() as conn:
            await conn.execute(RAW_TABLE)
            results = await bench_append(conn, per_round[0], spreads)
        results += await asyncio.to_thread(bench_eventsourcing_library, dsn, n, rounds, results)
        replay = await bench_replay(pool, per_round[1], spreads)
        es_read = results[-1]
        es_read.ours = replay[0].ours
        es_read.samples_ours = replay[0].samples_ours
        es_read.name = "replay 1,000 events (decoded) vs eventsourcing read"
        results += replay
        results += await bench_relay(dsn, pool, infra.kafka_bootstrap, n * 10, ROUNDS, spreads)
        results += await bench_latency(dsn, pool, infra.kafka_bootstrap, 60 if quick else 300)
    finally:
        await pool.close()
    print_table("libs/events", results)
    spread = spread_of(results, spreads)
    print(f"\n{'five alternating rounds':<46} {'median':>8} {'min':>6} {'max':>6}  ratios")
    for name, s in spread.items():
        print(f"{name:<46} {s['median']:>8.2f} {s['min']:>6.2f} {s['max']:>6.2f}  {s['ratios']}")
    extra = {"n": n, "rounds": ROUNDS, "per_round": {APPEND_1: per_round[0], REPLAY: per_round[1]},
             "ratio_spread": spread}  # fmt: skip
    print(f"\nwrote {write_results('events', results, extra)}")
    return results
