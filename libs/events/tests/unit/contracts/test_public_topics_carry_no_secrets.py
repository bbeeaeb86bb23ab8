"""No secret ever travels on a public topic: support tooling reads them (ARCHITECTURE.md, Events)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, get_args

import pytest
from pydantic import BaseModel

from casefold_events.contracts import (
    IDENTITY_MAIL_TOPIC,
    IDENTITY_TOPIC,
    PRIVATE_TOPICS,
    PUBLIC_TOPICS,
    SendAccountEmail,
)
from casefold_events_schemas import export

SECRET_LOOKING = re.compile(r"pass(word)?|token|secret|hash|action_url|link|url|otp|credential|api_?key", re.I)
PUBLIC_MODELS = sorted({m for events in PUBLIC_TOPICS.values() for m in events}, key=lambda m: m.event_type)


def field_names(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Every field name of a model, nested models included ("attachment.sha256")."""
    for name, info in model.model_fields.items():
        yield f"{prefix}{name}"
        stack: list[Any] = [info.annotation]
        while stack:
            annotation = stack.pop()
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                yield from field_names(annotation, f"{prefix}{name}.")
            stack.extend(get_args(annotation))


def property_names(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        yield from schema.get("properties", {})
        for value in schema.values():
            yield from property_names(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from property_names(value)


def test_the_pattern_catches_what_it_must() -> None:
    names = ["password_hash", "reset_token", "client_secret", "action_url", "confirm_link", "api_key"]
    assert all(SECRET_LOOKING.search(n) for n in names)
    assert not any(SECRET_LOOKING.search(n) for n in ["sha256", "user_id", "email", "display_name"])


def test_identity_public_contracts_carry_no_secret_looking_field() -> None:
    for model in PUBLIC_TOPICS[IDENTITY_TOPIC]:
        leaks = [name for name in field_names(model) if SECRET_LOOKING.search(name)]
        assert leaks == [], f"{model.event_type} on {IDENTITY_TOPIC}: {leaks}"


@pytest.mark.parametrize("model", PUBLIC_MODELS, ids=lambda m: m.event_type)
def test_no_public_contract_carries_a_secret_looking_field(model: type[BaseModel]) -> None:
    assert [name for name in field_names(model) if SECRET_LOOKING.search(name)] == []


def test_the_public_export_carries_no_secret_looking_property() -> None:
    for relative, text in export.render().items():
        if relative.startswith("internal/"):
            continue
        leaks = [name for name in property_names(json.loads(text)) if SECRET_LOOKING.search(name)]
        assert leaks == [], f"{relative}: {leaks}"


def test_send_account_email_travels_only_on_the_private_mail_topic() -> None:
    assert PRIVATE_TOPICS[IDENTITY_MAIL_TOPIC] == (SendAccountEmail,)
    assert SendAccountEmail.event_type not in {m.event_type for m in PUBLIC_MODELS}
    assert IDENTITY_MAIL_TOPIC not in PUBLIC_TOPICS
    assert not set(PUBLIC_TOPICS) & set(PRIVATE_TOPICS)


def test_the_secret_link_is_what_keeps_send_account_email_private() -> None:
    assert any(SECRET_LOOKING.search(name) for name in field_names(SendAccountEmail))
