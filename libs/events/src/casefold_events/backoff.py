"""Capped exponential backoff with jitter: replicas that met the same outage do not all retry at the same instant.

Equal jitter (half the step fixed, half random) keeps every pause at least half the nominal one, so a backoff still
backs off, while spreading the retries of many processes over the other half.
"""

from __future__ import annotations

import random
from collections.abc import Callable

Random = Callable[[], float]  # a float in [0, 1)

# Jitter needs no unpredictability, only spread; a module-level generator holds no I/O and no secret.
_random: Random = random.Random().random  # noqa: S311 - spreads retries, guards nothing


def jittered(delay: float, rng: Random = _random) -> float:
    """A pause between delay / 2 and delay."""
    return delay / 2 + rng() * delay / 2


class Backoff:
    """Successive pauses initial, 2 x initial, ... up to cap, each jittered; reset() after a success."""

    def __init__(self, initial: float, cap: float, rng: Random = _random) -> None:
        self.initial = initial
        self.cap = cap
        self._rng = rng
        self._step = initial

    def next(self) -> float:
        step = self._step
        self._step = min(step * 2, self.cap)
        return jittered(step, self._rng)

    def reset(self) -> None:
        self._step = self.initial
