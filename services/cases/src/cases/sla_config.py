"""The SLA settings of the cases service (CASES_SLA_*, CASES_CONTROLLABLE_CLOCK), turned into an SlaPolicy once."""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cases.domain.sla import BusinessCalendar, SlaPolicy, Target

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|h|d)\s*$")
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class TargetSetting(BaseModel):
    """One entry of CASES_SLA_TARGETS: durations like "30m", "4h", "1d" (d: one business day, or 24 h when
    `hours` is "24x7")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    first_response: str = Field(pattern=_DURATION.pattern)
    resolution: str = Field(pattern=_DURATION.pattern)
    hours: Literal["business", "24x7"] = "business"

    def target(self, business_day: timedelta) -> Target:
        day = timedelta(hours=24) if self.hours == "24x7" else business_day
        return Target(_duration(self.first_response, day), _duration(self.resolution, day),
                      around_the_clock=self.hours == "24x7")  # fmt: skip


def _duration(text: str, day: timedelta) -> timedelta:
    match = _DURATION.match(text)
    assert match is not None, "validated by the field's pattern"
    amount, unit = float(match[1]), match[2]
    return {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": day}[unit] * amount


DEFAULT_TARGETS: dict[str, TargetSetting] = {
    "1": TargetSetting(first_response="1h", resolution="4h", hours="24x7"),
    "2": TargetSetting(first_response="4h", resolution="1d"),
    "3": TargetSetting(first_response="1d", resolution="5d"),
    "prioritised": TargetSetting(first_response="1h", resolution="4h", hours="24x7"),
}


def business_days(text: str) -> frozenset[int]:
    """ "mon-fri", "mon,tue,thu" or "sun-thu" as ISO weekdays."""
    days: set[int] = set()
    for part in text.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in _DAY_NAMES or (last and last not in _DAY_NAMES):
            raise ValueError(f"CASES_SLA_BUSINESS_DAYS: {part!r} is not a day name or range (mon-fri)")
        a, b = _DAY_NAMES.index(first), _DAY_NAMES.index(last or first)
        days.update((a + i) % 7 + 1 for i in range((b - a) % 7 + 1))
    return frozenset(days)


def business_hours(text: str) -> tuple[time, time]:
    """ "09:00-17:00" (closing 24:00 or 00:00 means midnight)."""
    match = _HOURS.match(text)
    if match is None:
        raise ValueError("CASES_SLA_BUSINESS_HOURS must look like 09:00-17:00")
    oh, om, ch, cm = (int(g) for g in match.groups())
    if (ch, cm) == (24, 0):
        ch = 0
    opens, closes = time(oh, om), time(ch, cm)
    if closes != time(0) and closes <= opens:
        raise ValueError("CASES_SLA_BUSINESS_HOURS must close after it opens (no overnight hours)")
    return opens, closes


class SlaSettings(BaseModel):
    """Mixed into the cases Settings: read under the CASES_ prefix like the rest."""

    sla_time_zone: str = "Europe/Berlin"
    sla_business_hours: str = "09:00-17:00"
    sla_business_days: str = "mon-fri"
    sla_holidays: tuple[date, ...] = ()
    # JSON object keyed "1", "2", "3", "prioritised"; keys left out keep their defaults.
    sla_targets: dict[str, TargetSetting] = Field(default_factory=dict)
    sla_warn_percent: int = Field(default=80, ge=1, le=99)
    sla_poll_seconds: float = Field(default=30.0, gt=0)
    # Tests and the browser system only: "now" is moved by POST /internal/clock (refused in production).
    controllable_clock: bool = False

    @field_validator("sla_time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"CASES_SLA_TIME_ZONE: unknown time zone {value!r} (e.g. Europe/Berlin)") from None
        return value

    @field_validator("sla_business_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        business_hours(value)
        return value

    @field_validator("sla_business_days")
    @classmethod
    def _days(cls, value: str) -> str:
        business_days(value)
        return value

    @field_validator("sla_targets")
    @classmethod
    def _targets(cls, value: dict[str, TargetSetting]) -> dict[str, TargetSetting]:
        unknown = set(value) - set(DEFAULT_TARGETS)
        if unknown:
            raise ValueError(f"CASES_SLA_TARGETS: unknown keys {sorted(unknown)} (use 1, 2, 3, prioritised)")
        return value

    def sla_policy(self) -> SlaPolicy:
        opens, closes = business_hours(self.sla_business_hours)
        calendar = BusinessCalendar(ZoneInfo(self.sla_time_zone), opens, closes,
                                    business_days(self.sla_business_days), frozenset(self.sla_holidays))  # fmt: skip
        targets = {**DEFAULT_TARGETS, **self.sla_targets}
        day = calendar.day_length
        return SlaPolicy(
            severities={level: targets[str(level)].target(day) for level in (1, 2, 3)},
            prioritised=targets["prioritised"].target(day),
            business=calendar,
            warn_ratio=self.sla_warn_percent / 100,
        )
