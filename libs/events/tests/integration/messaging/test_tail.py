"""The support-tooling tail prints decoded events as JSON lines, from the beginning of a topic."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from events_builders import META, comment

from casefold_events.envelope import Envelope, encode, kafka_headers
from casefold_events.tail import run

pytestmark = pytest.mark.integration


async def test_tail_from_the_beginning_prints_each_event_as_a_json_line(kafka_bootstrap: str, kafka_topic: str) -> None:
    envelopes = [
        Envelope.wrap(comment(body=f"c{i}"), stream_id=str(uuid.uuid4()), stream_type="case", stream_version=1,
                      metadata=META)
        for i in range(3)
    ]  # fmt: skip
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for envelope in envelopes:
            await producer.send_and_wait(kafka_topic, encode(envelope), headers=kafka_headers(envelope))
        await producer.send_and_wait(kafka_topic, b"garbage")
    finally:
        await producer.stop()

    out = io.StringIO()
    await run(kafka_bootstrap, kafka_topic, from_beginning=True, limit=4, out=out)

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["payload"]["body"] for line in lines[:3]] == ["c0", "c1", "c2"]
    assert [line["event_id"] for line in lines[:3]] == [str(e.event_id) for e in envelopes]
    assert lines[0]["kafka"] == {"topic": kafka_topic, "partition": 0, "offset": 0}
    assert lines[3]["error"].startswith("DecodeError")
