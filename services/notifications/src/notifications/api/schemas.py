"""DTOs of the activity history API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

Direction = Literal["outbound", "inbound", "internal"]
# withheld: never sent, because the recipient's account is disabled (MessageRead.last_error says so).
Status = Literal["waiting", "queued", "sent", "failed", "withheld"]


class ActivityEntry(BaseModel):
    """One email of a case's activity history."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: UUID
    kind: str = Field(max_length=64, description="what the email is: ack, agent-comment, customer-comment, ...")
    label: str = Field(max_length=200, description="the kind in words for the reader, e.g. 'Reply from support'")
    direction: Direction
    from_: str = Field(alias="from", max_length=1000)
    to: str | None = Field(max_length=1000, description="null while the recipient's address is not known yet")
    subject: str = Field(max_length=1000)
    sent_at: datetime | None
    status: Status


class MessageRead(BaseModel):
    """One email in full: headers and both bodies, with its delivery status."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: UUID
    case_id: UUID
    kind: str = Field(max_length=64)
    label: str = Field(max_length=200)
    direction: Direction
    headers: dict[str, str]
    subject: str = Field(max_length=1000)
    text: str = Field(max_length=200_000)
    html: str = Field(max_length=400_000)
    from_: str = Field(alias="from", max_length=1000)
    to: str | None = Field(max_length=1000)
    status: Status
    sent_at: datetime | None
    attempts: int
    last_error: str | None = Field(max_length=1000)
