"""CASES_SLA_* settings become the SLA policy; bad values are refused naming the variable."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from pydantic import ValidationError

from cases.config import Settings
from cases.domain.sla import SlaPolicy, Target

H = timedelta(hours=1)


def test_the_defaults_are_the_documented_targets_and_berlin_business_hours() -> None:
    policy = Settings().sla_policy()

    assert policy == SlaPolicy()
    assert policy.business.zone.key == "Europe/Berlin"
    assert (policy.business.opens, policy.business.closes) == (time(9), time(17))


def test_targets_hours_days_and_holidays_are_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASES_SLA_TARGETS", '{"2": {"first_response": "90m", "resolution": "2d"}}')
    monkeypatch.setenv("CASES_SLA_BUSINESS_HOURS", "08:00-18:00")
    monkeypatch.setenv("CASES_SLA_BUSINESS_DAYS", "sun-thu")
    monkeypatch.setenv("CASES_SLA_TIME_ZONE", "Asia/Jerusalem")
    monkeypatch.setenv("CASES_SLA_HOLIDAYS", '["2026-12-25"]')
    monkeypatch.setenv("CASES_SLA_WARN_PERCENT", "75")

    policy = Settings().sla_policy()

    assert policy.severities[2] == Target(90 * timedelta(minutes=1), 20 * H)
    assert policy.severities[1] == Target(H, 4 * H, around_the_clock=True)
    assert policy.business.days == frozenset({7, 1, 2, 3, 4})
    assert policy.business.holidays == frozenset({date(2026, 12, 25)})
    assert policy.warn_ratio == 0.75


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CASES_SLA_TIME_ZONE", "Mars/Olympus"),
        ("CASES_SLA_BUSINESS_HOURS", "17:00-09:00"),
        ("CASES_SLA_BUSINESS_DAYS", "weekdays"),
        ("CASES_SLA_TARGETS", '{"4": {"first_response": "1h", "resolution": "2h"}}'),
        ("CASES_SLA_TARGETS", '{"1": {"first_response": "soon", "resolution": "2h"}}'),
    ],
)
def test_a_bad_sla_setting_is_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError, match=name.removeprefix("CASES_").lower()):
        Settings()


def test_the_controllable_clock_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASES_RECEIPT_KEY", "k" * 32)
    monkeypatch.setenv("CASES_INTERNAL_API_KEY", "i" * 32)

    with pytest.raises(ValidationError, match="CASES_CONTROLLABLE_CLOCK"):
        Settings(environment="production", controllable_clock=True)
