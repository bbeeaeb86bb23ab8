"""Severity levels: one definition, used by request validation and served to the portal."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Severity:
    level: int
    name: str
    description: str


SEVERITIES = (
    Severity(1, "Critical", "Production is stopped or severely impacted and there is no workaround."),
    Severity(2, "Major", "An important function is impaired or degraded, but work can go on (a workaround exists)."),
    Severity(3, "Minor", "A question, a cosmetic problem or a small inconvenience; normal work is not affected."),
)
LOWEST_LEVEL = min(s.level for s in SEVERITIES)  # the most severe
HIGHEST_LEVEL = max(s.level for s in SEVERITIES)
LEVELS_TEXT = ", ".join(f"{s.level} {s.name.lower()}" for s in SEVERITIES)
