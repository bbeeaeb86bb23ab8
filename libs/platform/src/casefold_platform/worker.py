"""The worker runner every service's `worker` command uses: start the background parts, run until SIGTERM or SIGINT,
stop them in reverse order (a consumer stops before the loop it feeds)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterable
from typing import Protocol


class Part(Protocol):
    """Anything started and stopped as a whole: a BackgroundLoop, a ConsumerRunner, a group of parts."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Parts:
    """Parts started in the given order and stopped in reverse; a part that never started is not stopped."""

    def __init__(self, *parts: Part) -> None:
        self.parts = parts
        self._started: list[Part] = []

    async def start(self) -> None:
        for part in self.parts:
            await part.start()
            self._started.append(part)

    async def stop(self) -> None:
        while self._started:
            await self._started.pop().stop()


async def run_until_signalled(part: Part, signals: Iterable[signal.Signals] = (signal.SIGTERM, signal.SIGINT)) -> None:
    """Start part, wait for one of the signals, stop it (also when starting failed half-way)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in signals:
        with contextlib.suppress(NotImplementedError):  # no signal handlers on some platforms' loops
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        await part.start()
        await stop.wait()
    finally:
        await part.stop()
        for sig in installed:
            loop.remove_signal_handler(sig)
