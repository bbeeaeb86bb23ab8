"""Shared service settings: process defaults by environment, SASL options, placeholder secrets refused."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

from casefold_platform.settings import DEV_RECEIPT_KEY, ReceiptKeySettings, ServiceSettings, refuse_placeholder


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_", extra="ignore")


def test_development_runs_migrations_and_workers_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_ENVIRONMENT", "development")
    settings = DemoSettings()
    assert settings.migrate_on_start
    assert settings.workers_in_process


def test_production_leaves_migrations_to_a_job_and_workers_to_their_deployment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_ENVIRONMENT", "production")
    settings = DemoSettings()
    assert not settings.migrate_on_start
    assert not settings.workers_in_process


def test_explicit_flags_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_RUN_WORKERS", "false")
    monkeypatch.setenv("DEMO_RUN_MIGRATIONS", "false")
    settings = DemoSettings()
    assert not settings.workers_in_process
    assert not settings.migrate_on_start


def test_sasl_options_are_passed_to_kafka_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("DEMO_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("DEMO_KAFKA_SASL_USERNAME", "cases")
    monkeypatch.setenv("DEMO_KAFKA_SASL_PASSWORD", "s3cret")
    assert DemoSettings().kafka_options() == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "cases",
        "sasl_plain_password": "s3cret",
    }


def test_plaintext_needs_no_extra_options() -> None:
    assert DemoSettings().kafka_options() == {"security_protocol": "PLAINTEXT"}


def test_placeholder_secrets_are_refused_in_production_only() -> None:
    placeholder = SecretStr("dev-key")
    refuse_placeholder("development", "DEMO_KEY", placeholder, "dev-key")
    with pytest.raises(ValueError, match="DEMO_KEY must be set"):
        refuse_placeholder("production", "DEMO_KEY", placeholder, "dev-key")
    with pytest.raises(ValueError, match="32\\+ characters"):
        refuse_placeholder("production", "DEMO_KEY", SecretStr("short"), "dev-key")
    refuse_placeholder("production", "DEMO_KEY", SecretStr("x" * 40), "dev-key")


def test_the_receipt_key_placeholder_is_refused_in_production_under_the_services_own_name() -> None:
    class Signing(ReceiptKeySettings):
        model_config = SettingsConfigDict(env_prefix="SIGNER_")

    with pytest.raises(ValidationError, match="SIGNER_RECEIPT_KEY"):
        Signing(environment="production")
    assert Signing(environment="production", receipt_key="s" * 32).receipt_key_bytes == b"s" * 32
    assert Signing().receipt_key_bytes == DEV_RECEIPT_KEY.encode()
