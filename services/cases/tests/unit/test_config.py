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
