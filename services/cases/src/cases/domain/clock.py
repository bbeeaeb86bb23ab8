"""Where "now" comes from: one clock, built in bootstrap.py and handed to whatever compares deadlines with now.

The system clock by default; tests and the browser system plug in a clock they move, so SLA deadlines are tested
without sleeping.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)
