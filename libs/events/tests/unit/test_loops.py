"""Background loops: a wake cuts a pause short, stop ends the loop, a pause without wake ignores wake()."""

from __future__ import annotations

import asyncio

from casefold_events.loops import BackgroundLoop


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
