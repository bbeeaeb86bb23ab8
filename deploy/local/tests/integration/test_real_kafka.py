"""The broker the tests run against is a real Kafka: groups, committed offsets and durability across a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from casefold_local import KafkaServer
from casefold_local.procs import free_port


async def _produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, key=b"case-1")
    finally:
        await producer.stop()


async def _consume(bootstrap: str, topic: str, group: str, count: int, commit: bool = True) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    got: list[bytes] = []
    try:
        async with asyncio.timeout(30):
            while len(got) < count:
                batch = await consumer.getmany(timeout_ms=500, max_records=count - len(got))
                for records in batch.values():
                    got.extend(r.value for r in records if r.value is not None)
        if commit:
            await consumer.commit()
    finally:
        await consumer.stop()
    return got


async def test_produce_and_consume_in_a_consumer_group(kafka_bootstrap: str, kafka_topic: str) -> None:
    values = [f"event-{i}".encode() for i in range(20)]
    await _produce(kafka_bootstrap, kafka_topic, values)

    assert await _consume(kafka_bootstrap, kafka_topic, "group-a", len(values)) == values


async def test_committed_offsets_survive_a_consumer_restart(kafka_bootstrap: str, kafka_topic: str) -> None:
    await _produce(kafka_bootstrap, kafka_topic, [b"first", b"second"])
    assert await _consume(kafka_bootstrap, kafka_topic, "group-b", 2) == [b"first", b"second"]

    await _produce(kafka_bootstrap, kafka_topic, [b"third"])

    assert await _consume(kafka_bootstrap, kafka_topic, "group-b", 1) == [b"third"]


async def test_uncommitted_offsets_are_redelivered(kafka_bootstrap: str, kafka_topic: str) -> None:
    await _produce(kafka_bootstrap, kafka_topic, [b"only"])
    assert await _consume(kafka_bootstrap, kafka_topic, "group-c", 1, commit=False) == [b"only"]

    assert await _consume(kafka_bootstrap, kafka_topic, "group-c", 1) == [b"only"]


async def test_broker_restart_keeps_acknowledged_messages(tmp_path: Path) -> None:
    # A private broker: restarting the session's shared one would disturb other tests.
    broker = KafkaServer(tmp_path / "kafka", port=free_port(), controller_port=free_port(), heap="256m")
    # A cluster id starting with "-", as one random id in 64 used to (and such ids stay in existing state folders):
    # formatting the storage must still take it (it failed CI once: "expected one argument").
    (tmp_path / "kafka").mkdir()
    (tmp_path / "kafka" / "cluster-id").write_text("-gic6h1fS9m4dR_oVIGfKg")
    await asyncio.to_thread(broker.start)
    try:
        await _produce(broker.bootstrap, "durable", [b"before-1", b"before-2"])
        first_pid = broker.pid()

        await asyncio.to_thread(broker.stop)
        assert broker.pid() is None
        await asyncio.to_thread(broker.start)
        assert broker.pid() not in (None, first_pid)

        await _produce(broker.bootstrap, "durable", [b"after"])
        consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            partition = TopicPartition("durable", 0)
            consumer.assign([partition])
            await consumer.seek_to_beginning(partition)
            got: list[bytes] = []
            async with asyncio.timeout(30):
                while len(got) < 3:
                    batch = await consumer.getmany(timeout_ms=500)
                    got.extend(r.value for records in batch.values() for r in records if r.value is not None)
        finally:
            await consumer.stop()
        assert got == [b"before-1", b"before-2", b"after"]
    finally:
        await asyncio.to_thread(broker.stop)
