"""Settings: the shared ServiceSettings read under the CASES_ prefix, with the service's own defaults."""

from __future__ import annotations

import pytest

from cases.config import Settings


def test_defaults_are_the_cases_port_and_database() -> None:
    settings = Settings()

    assert settings.port == 8002
    assert settings.database_url.endswith("/casefold_cases")
    assert settings.revoked_tokens_url is not None


def test_production_runs_neither_migrations_nor_workers_in_the_api_unless_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CASES_ATTACHMENT_RECEIPT_KEY", "k" * 32)
    monkeypatch.setenv("CASES_INTERNAL_API_KEY", "i" * 32)
    production = Settings(environment="production")
    told = Settings(environment="production", run_migrations=True, run_workers=True)

    assert (production.migrate_on_start, production.workers_in_process) == (False, False)
    assert (told.migrate_on_start, told.workers_in_process) == (True, True)


def test_the_topic_and_receipt_key_read_the_shared_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASES_EVENTS_TOPIC", "cases.x")
    monkeypatch.setenv("CASES_RECEIPT_KEY", "n" * 32)

    settings = Settings()

    assert (settings.events_topic, settings.receipt_key_bytes) == ("cases.x", b"n" * 32)


def test_the_names_before_the_shared_vocabulary_still_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASES_TOPIC", "cases.old")
    monkeypatch.setenv("CASES_ATTACHMENT_RECEIPT_KEY", "o" * 32)
    monkeypatch.setenv("CASES_INTERNAL_API_KEY", "i" * 32)

    settings = Settings(environment="production")

    assert (settings.events_topic, settings.receipt_key_bytes) == ("cases.old", b"o" * 32)


def test_the_comment_limit_is_a_thousand_unless_cases_max_comments_per_case_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().max_comments_per_case == 1000

    monkeypatch.setenv("CASES_MAX_COMMENTS_PER_CASE", "50")

    assert Settings().max_comments_per_case == 50
