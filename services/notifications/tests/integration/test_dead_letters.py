"""Failures go to dead-letter topics: the private mail topic's to its own, never to the shared one."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from notifications_harness import Harness

pytestmark = pytest.mark.integration

SECRET = b"https://casefold.example/confirm?token=secret-in-a-poison-message"


async def _everything_on(bootstrap: str, topic: str) -> list[tuple[bytes, str]]:
    """(value, dlq.source) of every message on a single-partition topic, read to its end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        found: list[tuple[bytes, str]] = []
        async with asyncio.timeout(30):
            while await consumer.position(tp) < end:
                batch = await consumer.getmany(tp, timeout_ms=300)
                found += [(r.value or b"", dict(r.headers)["dlq.source"].decode()) for r in batch.get(tp, [])]
        return found
    finally:
        await consumer.stop()


async def test_failures_from_the_mail_topic_go_to_the_private_dead_letter_topic_only(harness: Harness) -> None:
    s = harness.settings
    runner = harness.app.state.worker.consumer

    async def both_dead_lettered() -> bool:
        return bool(runner.dead_lettered == 2)

    await harness.producer.send_and_wait(s.identity_mail_topic, SECRET, key=b"user")
    await harness.producer.send_and_wait(s.identity_topic, b"not an envelope either", key=b"user")
    await harness.until(both_dead_lettered)

    private = await _everything_on(s.kafka_bootstrap_servers, s.dead_letter_topics[s.identity_mail_topic])
    shared = await _everything_on(s.kafka_bootstrap_servers, f"{s.consumer_name}.dlq")

    assert private == [(SECRET, f"{s.identity_mail_topic}/0/0")]
    assert shared == [(b"not an envelope either", f"{s.identity_topic}/0/0")]
