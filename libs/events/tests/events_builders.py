"""Test data builders for libs/events tests (one place)."""

from __future__ import annotations

import uuid
from typing import Any, Self

from casefold_events.contracts import CommentAdded
from casefold_events.contracts.base import Event
from casefold_events.envelope import Actor, Metadata
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
