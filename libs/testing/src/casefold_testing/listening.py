"""NOTIFYs counted as a listener of its own hears them: a test asserts how many a write (or a doorbell) sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg


class Heard:
    """The notifications received on one channel so far."""

    def __init__(self) -> None:
        self.count = 0
        self._arrived = asyncio.Event()

    def __call__(self, *_: object) -> None:
        self.count += 1
        self._arrived.set()

    async def settle(self, quiet: float = 0.5) -> int:
        """The count once nothing more has arrived for `quiet` seconds (a notification takes milliseconds)."""
        while True:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), quiet)
            except TimeoutError:
                return self.count


@asynccontextmanager
async def listening(dsn: str, channel: str) -> AsyncIterator[Heard]:
    """LISTEN on channel over a connection of its own while inside."""
    listener = await asyncpg.connect(dsn)
    heard = Heard()
    await listener.add_listener(channel, heard)
    try:
        yield heard
    finally:
        await listener.close()
