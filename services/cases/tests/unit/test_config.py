"""Settings: the shared ServiceSettings read under the CASES_ prefix, with the service's own defaults."""

from __future__ import annotations

import pytest

from cases.config import Settings


def test_kafka_sasl_comes_from_cases_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASES_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("CASES_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("CASES_KAFKA_SASL_USERNAME", "cases")
    monkeypatch.setenv("CASES_KAFKA_SASL_PASSWORD", "s3cret")

    assert Settings().kafka_options() == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "cases",
        "sasl_plain_password": "s3cret",
    }


def test_defaults_are_the_cases_port_and_database() -> None:
    settings = Settings()

    assert settings.port == 8002
    assert settings.database_url.endswith("/casefold_cases")
    assert settings.revoked_tokens_url is not None


def test_production_runs_neither_migrations_nor_workers_in_the_api_unless_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CASES_ATTACHMENT_RECEIPT_KEY", "k" * 32)
    production = Settings(environment="production")
    told = Settings(environment="production", run_migrations=True, run_workers=True)

    assert (production.migrate_on_start, production.workers_in_process) == (False, False)
    assert (told.migrate_on_start, told.workers_in_process) == (True, True)
