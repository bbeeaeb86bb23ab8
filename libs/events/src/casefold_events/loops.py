"""Background loops (the outbox relay, a mail delivery loop): one task, wakeable pauses, a clean stop."""

from __future__ import annotations

import asyncio
import contextlib


class BackgroundLoop:
    """Runs `run()` as a task from start() until stop(); `pause()` returns early on wake() or stop()."""

    task_name = "background-loop"

    def __init__(self) -> None:
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self.run(), name=self.task_name)

    async def stop(self) -> None:
        """Ask the loop to finish what it is doing and wait for it."""
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self, *_: object) -> None:
        """Cut the current pause short (usable as a LISTEN callback)."""
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def pause(self, seconds: float, *, wakeable: bool = True) -> bool:
        """Wait up to seconds, until stop() (or wake(), when wakeable); True when stopping."""
        waiters = [asyncio.ensure_future(self._stopping.wait())]
        if wakeable:
            waiters.append(asyncio.ensure_future(self._wake.wait()))
        _, pending = await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        for waiter in pending:
            waiter.cancel()
        return self._stopping.is_set()
