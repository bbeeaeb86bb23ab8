"""Private mail commands: identity asks notifications to send account emails that carry secrets (links).

These travel only on the private topic `identity.mail.v1`, never on a public topic.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from casefold_events.contracts.base import Event, event

# The account emails notifications knows how to write (its templates are named after them).
AccountTemplate = Literal[
    "confirm-email",
    "confirm-email-change",
    "email-changed-notice",
    "password-changed",
    "password-reset",
    "password-reset-notice",
]


@event
class SendAccountEmail(Event):
    """Send one account email (confirm an address or an email change, reset the password, a security notice).

    email-changed-notice goes to the address an account just left (no link: it tells, it does not act).
    """

    event_type = "SendAccountEmail"
    schema_version = 1

    user_id: UUID
    template: AccountTemplate
    to: str = Field(max_length=320)
    display_name: str = Field(max_length=64)
    action_url: str | None = Field(default=None, max_length=2048, description="secret: the single-use link")
    expires_at: datetime | None = None
