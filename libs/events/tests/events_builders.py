"""Test data builders for libs/events tests (one place)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any, Self

from aiokafka import AIOKafkaConsumer

from casefold_events.contracts import CommentAdded
from casefold_events.contracts.base import Event
from casefold_events.envelope import Actor, Envelope, Metadata, decode
from casefold_events.store import Aggregate

CUSTOMER = uuid.UUID("00000000-0000-7000-8000-000000000001")
META = Metadata(actor=Actor(user_id=CUSTOMER, role="customer"))


def comment(case_id: uuid.UUID | None = None, body: str = "hello", internal: bool = False) -> CommentAdded:
    return CommentAdded(
        case_id=case_id or uuid.uuid4(),
        comment_id=uuid.uuid4(),
        author_id=CUSTOMER,
        author_role="customer",
        body=body,
        internal=internal,
    )


class Thread(Aggregate):
    """A tiny aggregate for store tests: the bodies of the comments on one stream."""

    stream_type = "thread"

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.bodies: list[str] = []

    def apply(self, event: Event) -> None:
        assert isinstance(event, CommentAdded)
        self.bodies.append(event.body)

    def to_snapshot(self) -> dict[str, Any]:
        return {"bodies": self.bodies}

    @classmethod
    def from_snapshot(cls, stream_id: str, state: dict[str, Any]) -> Self:
        thread = cls(stream_id)
        thread.bodies = list(state["bodies"])
        return thread


async def event_ids_on(bootstrap: str, topic: str, at_least: int, seconds: float = 30) -> set[uuid.UUID]:
    """The event ids on a topic, read from the beginning (no group) until at_least distinct ones are seen."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        seen: set[uuid.UUID] = set()
        async with asyncio.timeout(seconds):
            while len(seen) < at_least:
                batch = await consumer.getmany(timeout_ms=300)
                seen |= {decode(r.value).event_id for rs in batch.values() for r in rs if r.value}
        return seen
    finally:
        await consumer.stop()


def comment_envelope() -> Envelope:
    """A CommentAdded on a new thread, enveloped as the relay publishes it."""
    return Envelope.wrap(comment(), stream_id=str(uuid.uuid4()), stream_type="thread", stream_version=1, metadata=META)


async def until(predicate: Callable[[], bool], seconds: float = 30) -> None:
    """Wait for predicate to hold (a TimeoutError after seconds)."""
    async with asyncio.timeout(seconds):
        while not predicate():
            await asyncio.sleep(0.05)
