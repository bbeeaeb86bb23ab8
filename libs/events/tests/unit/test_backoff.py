"""Backoff: doubles up to its cap, every pause jittered within [half, whole] of its step, reset after success."""

from __future__ import annotations

from casefold_events.backoff import Backoff, jittered


def test_steps_double_up_to_the_cap_at_the_top_of_the_jitter() -> None:
    backoff = Backoff(0.5, 3.0, rng=lambda: 0.999999)
    pauses = [round(backoff.next(), 3) for _ in range(5)]
    assert pauses == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_a_pause_is_never_less_than_half_its_step() -> None:
    backoff = Backoff(1.0, 8.0, rng=lambda: 0.0)
    assert [backoff.next() for _ in range(4)] == [0.5, 1.0, 2.0, 4.0]


def test_reset_starts_again_from_the_initial_step() -> None:
    backoff = Backoff(1.0, 8.0, rng=lambda: 0.0)
    backoff.next()
    backoff.next()
    backoff.reset()
    assert backoff.next() == 0.5


def test_jitter_spreads_pauses_of_the_same_step() -> None:
    pauses = {jittered(2.0) for _ in range(50)}
    assert len(pauses) > 1
    assert all(1.0 <= pause <= 2.0 for pause in pauses)
