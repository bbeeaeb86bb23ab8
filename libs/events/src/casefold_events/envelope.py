"""The envelope every event travels in (store rows, outbox rows, Kafka values) and its codec.

Kafka: value = the envelope as JSON; key = stream id; headers event_type, event_id, schema_version, traceparent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

import uuid_utils
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from casefold_events.contracts.base import Event, registry

ActorRole = Literal["customer", "agent", "admin", "system"]
CONTENT_TYPE = "application/vnd.casefold.event+json"


def new_event_id() -> UUID:
    """UUIDv7: time-ordered, so ids sort roughly by creation."""
    return UUID(str(uuid_utils.uuid7()))


def utcnow() -> datetime:
    return datetime.now(UTC)


class Actor(BaseModel):
    """Who caused the event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    user_id: UUID | None = None
    role: ActorRole = "system"


SYSTEM = Actor()


class Metadata(BaseModel):
    """What a command carries into the events it produces (who, why, which trace)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    actor: Actor = SYSTEM
    correlation_id: UUID | None = None
    causation_id: UUID | None = None
    traceparent: str | None = Field(default=None, max_length=128)


class Envelope(BaseModel):
    """One recorded event: identity, position in its stream, provenance and the payload."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID
    event_type: str
    schema_version: int = Field(ge=1)
    stream_id: str
    stream_type: str
    stream_version: int = Field(ge=1)
    occurred_at: AwareDatetime
    actor: Actor = SYSTEM
    correlation_id: UUID | None = None
    causation_id: UUID | None = None
    traceparent: str | None = None
    payload: dict[str, Any]

    def event(self) -> Event:
        """The payload as its current contract model (upcast from an older version when needed)."""
        return registry.load(self.event_type, self.schema_version, self.payload)

    @classmethod
    def wrap(
        cls,
        event: Event,
        *,
        stream_id: str,
        stream_type: str,
        stream_version: int,
        metadata: Metadata,
        occurred_at: datetime | None = None,
        event_id: UUID | None = None,
    ) -> Envelope:
        # The event is a validated model and the metadata too: construct without validating them again.
        return cls.model_construct(
            event_id=event_id or new_event_id(),
            event_type=event.event_type,
            schema_version=event.schema_version,
            stream_id=stream_id,
            stream_type=stream_type,
            stream_version=stream_version,
            occurred_at=occurred_at or utcnow(),
            actor=metadata.actor,
            correlation_id=metadata.correlation_id,
            causation_id=metadata.causation_id,
            traceparent=metadata.traceparent,
            payload=event.model_dump(mode="json"),
        )


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event the store has just appended: the typed event, where it sits, when and who.

    The in-process form of an envelope, for the write path (aggregate, inline projections): it keeps the event
    model the caller built, so nothing is dumped to a payload dict or validated again, and it costs a few plain
    attributes. It reads like an Envelope (same attributes, `event()`); `envelope()` is its wire form.
    """

    event_id: UUID
    stream_id: str
    stream_type: str
    stream_version: int
    occurred_at: datetime
    metadata: Metadata
    body: Event

    def event(self) -> Event:
        return self.body

    @property
    def event_type(self) -> str:
        return self.body.event_type

    @property
    def schema_version(self) -> int:
        return self.body.schema_version

    @property
    def actor(self) -> Actor:
        return self.metadata.actor

    @property
    def correlation_id(self) -> UUID | None:
        return self.metadata.correlation_id

    @property
    def causation_id(self) -> UUID | None:
        return self.metadata.causation_id

    @property
    def traceparent(self) -> str | None:
        return self.metadata.traceparent

    @property
    def payload(self) -> dict[str, Any]:
        return self.body.model_dump(mode="json")

    def envelope(self) -> Envelope:
        return Envelope.wrap(
            self.body,
            stream_id=self.stream_id,
            stream_type=self.stream_type,
            stream_version=self.stream_version,
            metadata=self.metadata,
            occurred_at=self.occurred_at,
            event_id=self.event_id,
        )


# Anything a projection or an aggregate can apply: a recorded event (write path) or an envelope (read, Kafka).
EventRecord = Envelope | RecordedEvent


class DecodeError(ValueError):
    """Bytes that are not a valid envelope of a known event: a poison message."""


def encode(envelope: EventRecord) -> bytes:
    if isinstance(envelope, RecordedEvent):
        envelope = envelope.envelope()
    return envelope.model_dump_json().encode()


def decode(value: bytes | str) -> Envelope:
    try:
        return Envelope.model_validate_json(value)
    except ValueError as exc:
        raise DecodeError(str(exc)) from exc


def message_headers(
    event_type: str, event_id: UUID, schema_version: int, traceparent: str | None
) -> list[tuple[str, bytes]]:
    """Kafka headers of an event message (tooling can route and trace without parsing the value)."""
    headers = [
        ("event_type", event_type.encode()),
        ("event_id", str(event_id).encode()),
        ("schema_version", str(schema_version).encode()),
        ("content-type", CONTENT_TYPE.encode()),
    ]
    if traceparent:
        headers.append(("traceparent", traceparent.encode()))
    return headers


def kafka_headers(envelope: EventRecord) -> list[tuple[str, bytes]]:
    return message_headers(envelope.event_type, envelope.event_id, envelope.schema_version, envelope.traceparent)


def to_json(envelope: EventRecord) -> dict[str, Any]:
    """The envelope as plain JSON data (what the outbox stores and tooling prints)."""
    data: dict[str, Any] = json.loads(encode(envelope))
    return data
