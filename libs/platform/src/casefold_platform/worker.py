"""The worker runner every service's `worker` command uses: start the background parts, run until SIGTERM or SIGINT,
stop them in reverse order (a consumer stops before the loop it feeds).

A background loop that dies ends the run too: the parts are stopped and LoopDied is raised, so the worker exits
non-zero and its supervisor (Kubernetes, the local runner) restarts it with backoff, instead of a process that looks
healthy while its relay or consumer no longer runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterable
from typing import Protocol

from casefold_events.loops import BackgroundLoop, LoopDied, dead_loops, on_death


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
    """Start part, wait for one of the signals, stop it (also when starting failed half-way).

    Raises LoopDied (after stopping part) when a background loop of this process died meanwhile.
    """
    stop = asyncio.Event()
    died: list[BackgroundLoop] = []

    def _died(loop: BackgroundLoop) -> None:
        died.append(loop)
        stop.set()

    loop = asyncio.get_running_loop()
    installed = []
    for sig in signals:
        with contextlib.suppress(NotImplementedError):  # no signal handlers on some platforms' loops
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    unsubscribe = on_death(_died)
    try:
        await part.start()
        died.extend(dead_loops())  # one that died before we listened
        if not died:
            await stop.wait()
    finally:
        unsubscribe()
        await part.stop()
        for sig in installed:
            loop.remove_signal_handler(sig)
    if died:
        first = died[0]
        raise LoopDied(f"{first.task_name} died: {type(first.failure).__name__}: {first.failure}") from first.failure
