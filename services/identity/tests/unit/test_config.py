"""Identity reads the shared settings, and the environment names deploy/k8s sets."""

from __future__ import annotations

import pytest

from identity.config import Settings


def test_the_manifests_apply_migrations_flag_still_switches_migrations_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDENTITY_APPLY_MIGRATIONS", "false")
    assert Settings(environment="development").migrate_on_start is False


def test_run_migrations_is_read_like_in_the_other_services(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDENTITY_RUN_MIGRATIONS", "true")
    assert Settings(environment="test").migrate_on_start is True
    assert Settings(environment="test", run_migrations=False).migrate_on_start is False
