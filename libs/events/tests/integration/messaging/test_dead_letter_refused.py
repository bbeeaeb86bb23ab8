"""A dead letter Kafka refuses for good does not block the partition: it is parked in the dead_letters table, counted,
and the consumer moves on (real broker: a dead-letter topic whose max.message.bytes is smaller than the message)."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from events_builders import comment_envelope, until
from prometheus_client import REGISTRY

from casefold_events.consumer import ConsumerRunner
from casefold_events.envelope import Envelope, encode, kafka_headers

pytestmark = pytest.mark.integration


async def _run_past_a_poison_message(
    pool: asyncpg.Pool, kafka_bootstrap: str, producer: AIOKafkaProducer, topic: str, dead_letter_topic: str,
    dead_letter_budget: float = 300.0,
) -> tuple[ConsumerRunner, Envelope]:  # fmt: skip
    bad, good = comment_envelope(), comment_envelope()
    handled: list[uuid.UUID] = []

    async def handle(conn: asyncpg.Connection, envelope: Envelope) -> None:
        if envelope.event_id == bad.event_id:
            raise ValueError("cannot project this")
        handled.append(envelope.event_id)

    name = f"refused-{uuid.uuid4().hex[:6]}"
    runner = ConsumerRunner(name, kafka_bootstrap, [topic], pool, handle, dead_letter_topic=dead_letter_topic,
                            max_attempts=1, backoff_initial=0.01, backoff_max=0.2,
                            dead_letter_budget=dead_letter_budget)  # fmt: skip
    await runner.start()
    try:
        for envelope in (bad, good):
            await producer.send_and_wait(topic, encode(envelope), key=b"k", headers=kafka_headers(envelope))
        await until(lambda: handled == [good.event_id])  # the partition moved on past the refused dead letter
    finally:
        await runner.stop()
    return runner, bad


async def test_a_dead_letter_too_large_for_its_topic_is_parked_and_the_partition_moves_on(
    pool: asyncpg.Pool, kafka_bootstrap: str, kafka_topic: str, tiny_topic: str, producer: AIOKafkaProducer
) -> None:
    runner, bad = await _run_past_a_poison_message(pool, kafka_bootstrap, producer, kafka_topic, tiny_topic)

    row = await pool.fetchrow("SELECT * FROM dead_letters WHERE consumer = $1", runner.name)
    assert row is not None
    assert (row["source_topic"], row["source_offset"], row["target_topic"]) == (kafka_topic, 0, tiny_topic)
    assert row["value"] == encode(bad)  # the message as received, to redrive
    assert row["error"] == "ValueError: cannot project this"
    assert "TooLarge" in row["refused_by_kafka"]
    assert dict(zip(row["header_names"], row["header_values"], strict=True))["event_id"] == str(bad.event_id).encode()
    assert (runner.parked, runner.dead_lettered) == (1, 1)
    assert REGISTRY.get_sample_value("casefold_dead_letters_parked_total", {"consumer": runner.name}) == 1
    assert await _committed(kafka_bootstrap, runner.name, kafka_topic) == 2  # both offsets committed

    consumer = AIOKafkaConsumer(tiny_topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        assert await consumer.getmany(timeout_ms=1000) == {}  # nothing reached the dead-letter topic
    finally:
        await consumer.stop()


async def test_a_dead_letter_refused_past_the_budget_is_parked_too(
    pool: asyncpg.Pool, kafka_bootstrap: str, kafka_topic: str, producer: AIOKafkaProducer
) -> None:
    # A topic name Kafka never accepts: aiokafka waits for metadata that never comes, then times out; the budget
    # bounds how long that is retried.
    runner, _ = await _run_past_a_poison_message(pool, kafka_bootstrap, producer, kafka_topic, "no such topic!",
                                                 dead_letter_budget=1.0)  # fmt: skip
    assert runner.parked == 1
    assert await pool.fetchval("SELECT count(*) FROM dead_letters WHERE consumer = $1", runner.name) == 1


async def _committed(bootstrap: str, group: str, topic: str) -> int | None:
    from aiokafka import TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        committed: int | None = await consumer.committed(TopicPartition(topic, 0))
        return committed
    finally:
        await consumer.stop()
