"""The attachments service answers its health probe and refuses placeholder secrets in production."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from attachments.config import Settings
from attachments.main import create_app


def test_healthz_answers_without_any_dependency() -> None:
    client = TestClient(create_app(Settings(environment="test")))  # no lifespan: no database needed
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "attachments"}


def test_production_refuses_the_development_receipt_key() -> None:
    with pytest.raises(ValidationError, match="ATTACHMENTS_RECEIPT_KEY"):
        Settings(environment="production")


def test_production_refuses_the_development_internal_api_key() -> None:
    with pytest.raises(ValidationError, match="ATTACHMENTS_INTERNAL_API_KEY"):
        Settings(environment="production", receipt_key="k" * 40)


def test_production_accepts_real_secrets() -> None:
    settings = Settings(environment="production", receipt_key="k" * 40, internal_api_key="s" * 40)
    assert settings.receipt_key_bytes == b"k" * 40


def test_the_body_limit_leaves_room_for_every_file_at_its_limit() -> None:
    settings = Settings(max_file_bytes=1000, max_files_per_request=3)
    assert settings.max_request_bytes > 3 * 1000


def test_the_consumed_topic_is_read_under_its_shared_name_and_its_former_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTACHMENTS_CASES_TOPIC", "cases.new")
    assert Settings().cases_topic == "cases.new"

    monkeypatch.delenv("ATTACHMENTS_CASES_TOPIC")
    monkeypatch.setenv("ATTACHMENTS_TOPIC", "cases.old")
    assert Settings().cases_topic == "cases.old"
