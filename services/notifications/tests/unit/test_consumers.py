"""The consumer's dispatch: unknown types are skipped, invalid payloads fail without echoing their content."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from notifications_builders import account_email, wrap

from notifications.adapters.templates import Renderer
from notifications.app.mailer import Mailer
from notifications.consumers import InvalidPayload, make_handler


def _handler() -> Any:
    return make_handler(Mailer(Renderer(), "s@casefold.local", "t@casefold.local", "casefold.local", "http://p.test"))


async def test_an_invalid_mail_command_fails_without_revealing_its_link() -> None:
    envelope = wrap(account_email(uuid.uuid4(), "ada@customer.test"), uuid.uuid4(), stream_type="mail")
    broken = envelope.model_copy(update={"payload": {**envelope.payload, "template": "unknown", "extra": 1}})

    with pytest.raises(InvalidPayload) as caught:
        await _handler()(None, broken)

    assert "s3cr3t" not in str(caught.value)
    assert "template" in str(caught.value)


async def test_event_types_without_an_email_are_skipped() -> None:
    envelope = wrap(account_email(uuid.uuid4(), "ada@customer.test"), uuid.uuid4(), stream_type="mail")
    other = envelope.model_copy(update={"event_type": "EmailChangeRequested"})

    await _handler()(None, other)  # no connection needed: nothing to do
