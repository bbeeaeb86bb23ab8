"""Background loops: a wake cuts a pause short, stop ends the loop, a pause without wake ignores wake(); a loop that
dies is logged, counted and heard of, and one without progress shows as stuck."""

from __future__ import annotations

import asyncio

from prometheus_client import REGISTRY

from casefold_events.loops import BackgroundLoop, LoopDied, health, on_death


class Ticker(BackgroundLoop):
    def __init__(self) -> None:
        super().__init__()
        self.ticks = 0

    async def run(self) -> None:
        while not self.stopping:
            self.ticks += 1
            self._wake.clear()
            await self.pause(60)


async def test_wake_cuts_a_pause_short_and_stop_ends_the_loop() -> None:
    ticker = Ticker()
    await ticker.start()
    await asyncio.sleep(0.01)
    assert ticker.ticks == 1

    ticker.wake()
    await asyncio.sleep(0.01)
    assert ticker.ticks == 2

    async with asyncio.timeout(1):
        await ticker.stop()  # well before the 60 s pause would end
    assert ticker.stopping


async def test_an_unwakeable_pause_waits_out_a_wake_but_not_a_stop() -> None:
    loop = BackgroundLoop()
    loop.wake()
    assert await loop.pause(0.05, wakeable=False) is False
    assert await loop.pause(0.05) is False  # woken (already set), not stopping

    waiting = asyncio.create_task(loop.pause(60, wakeable=False))
    await loop.stop()
    async with asyncio.timeout(1):
        assert await waiting is True


class Crashes(BackgroundLoop):
    task_name = "crashes-on-second-round"

    async def run(self) -> None:
        rounds = 0
        while not self.stopping:
            rounds += 1
            if rounds == 2:
                raise ValueError("a bug in round two")
            await self.pause(0.01)


class ReturnsEarly(BackgroundLoop):
    task_name = "returns-early"

    async def run(self) -> None:
        return None


async def test_a_loop_that_raises_is_reported_dead_counted_and_heard_of() -> None:
    heard: list[str] = []
    unsubscribe = on_death(lambda loop: heard.append(loop.task_name))
    deaths_before = _sample("casefold_loop_deaths_total", Crashes.task_name)
    loop = Crashes()
    try:
        await loop.start()
        async with asyncio.timeout(2):
            while loop.failure is None:
                await asyncio.sleep(0.01)
        assert heard == [Crashes.task_name]
        assert isinstance(loop.failure, ValueError)
        assert _sample("casefold_loop_deaths_total", Crashes.task_name) == deaths_before + 1
        assert _sample("casefold_loop_up", Crashes.task_name) == 0
        state = {h.name: h for h in health()}[Crashes.task_name]
        assert not state.alive
        assert "ValueError: a bug in round two" in state.detail
    finally:
        unsubscribe()
        await loop.stop()
    assert Crashes.task_name not in {h.name for h in health()}  # stopped loops leave the liveness answer


async def test_a_loop_that_returns_before_stop_counts_as_dead() -> None:
    loop = ReturnsEarly()
    await loop.start()
    await asyncio.sleep(0.01)
    try:
        assert isinstance(loop.failure, LoopDied)
    finally:
        await loop.stop()


async def test_a_loop_without_progress_is_stuck_but_a_long_pause_is_not() -> None:
    class Hangs(BackgroundLoop):
        task_name = "hangs"
        stale_after = 0.05

        async def run(self) -> None:
            await asyncio.Event().wait()  # a call that never returns

    class Sleeps(Hangs):
        task_name = "sleeps"

        async def run(self) -> None:
            await self.pause(3600)

    hangs, sleeps = Hangs(), Sleeps()
    await hangs.start()
    await sleeps.start()
    try:
        await asyncio.sleep(0.1)
        states = {h.name: h for h in health()}
        assert not states["hangs"].alive
        assert states["hangs"].detail.startswith("stuck")
        assert states["sleeps"].alive
    finally:
        assert hangs._task is not None
        hangs._task.cancel()
        await hangs.stop()
        await sleeps.stop()


def _sample(name: str, loop: str) -> float:
    return REGISTRY.get_sample_value(name, {"loop": loop}) or 0.0
