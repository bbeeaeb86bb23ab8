"""A RecordedEvent (what append() returns) reads exactly like the envelope it stands for."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from events_builders import comment

from casefold_events.envelope import (
    Actor,
    Envelope,
    Metadata,
    RecordedEvent,
    decode,
    encode,
    kafka_headers,
    new_event_id,
    to_json,
)

METADATA = Metadata(
    actor=Actor(user_id=uuid.uuid4(), role="agent"),
    correlation_id=uuid.uuid4(),
    causation_id=uuid.uuid4(),
    traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
)


def recorded() -> RecordedEvent:
    at = datetime(2026, 11, 27, 12, 30, 15, 123456, tzinfo=UTC)
    return RecordedEvent(new_event_id(), "stream-1", "thread", 7, at, METADATA, comment(body="hi"))


def test_every_envelope_field_reads_the_same_on_the_record() -> None:
    record = recorded()
    envelope = record.envelope()

    for name in Envelope.model_fields:
        assert getattr(record, name) == getattr(envelope, name), name
    assert record.event() is record.body


def test_a_record_encodes_to_its_envelope_and_decodes_back() -> None:
    record = recorded()

    assert encode(record) == encode(record.envelope())
    assert kafka_headers(record) == kafka_headers(record.envelope())
    assert to_json(record)["payload"]["body"] == "hi"
    back = decode(encode(record))
    assert back == record.envelope()
    assert back.event() == record.body
