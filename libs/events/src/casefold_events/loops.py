"""Background loops (the outbox relay, a consumer, a mail delivery loop): one task, wakeable pauses, a clean stop.

A loop never dies quietly. When `run()` raises (or returns before stop() was asked), the loop logs `loop_died` with
the traceback, counts it in `casefold_loop_deaths_total`, drops its `casefold_loop_up` gauge to 0 and tells every
death listener (`on_death`): the worker runner then stops the process with a non-zero exit, and Kubernetes or the
local runner restarts it with backoff. A loop that is alive but stuck (no `beat()` for `stale_after` seconds: a
call that never returns) shows in `health()`, which the worker's /livez and the API's /healthz answer from.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from casefold_events.metrics import LOOP_DEATHS, LOOP_UP

log = structlog.get_logger("casefold.loops")

DeathListener = Callable[["BackgroundLoop"], None]

# The loops started in this process and not stopped yet, and who wants to hear of a death: process-wide on purpose,
# since the liveness answer is about the whole process. A process runs its loops on one event loop; the answers
# count only the loops of the event loop asking (test runs create many event loops, and leave loops on closed ones).
_running: set[BackgroundLoop] = set()
_listeners: list[DeathListener] = []


class LoopDied(RuntimeError):
    """A background loop ended without being asked to; the process must not go on looking healthy."""


@dataclass(frozen=True)
class LoopHealth:
    name: str
    alive: bool
    detail: str


def on_death(listener: DeathListener) -> Callable[[], None]:
    """Call listener(loop) when any loop of this process dies; returns the function that unsubscribes it."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener) if listener in _listeners else None


def _of_this_event_loop() -> list[BackgroundLoop]:
    try:
        current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        current = None
    return [loop for loop in _running if (current is None or loop.event_loop is current) and loop.running]


def health() -> list[LoopHealth]:
    """The state of every running loop of this process: dead (with why), stuck (no beat lately) or alive."""
    return [loop.health() for loop in sorted(_of_this_event_loop(), key=lambda loop: loop.task_name)]


def dead_loops() -> list[BackgroundLoop]:
    return [loop for loop in _of_this_event_loop() if loop.failure is not None]


class BackgroundLoop:
    """Runs `run()` as a task from start() until stop(); `pause()` returns early on wake() or stop()."""

    task_name = "background-loop"
    # Longer than any single step may take (a Kafka request times out in 40 s, a database command in 60 s), so
    # only a loop that is truly stuck goes stale; pause() beats, so waiting out an outage is never stuck.
    stale_after = 300.0

    def __init__(self) -> None:
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.event_loop: asyncio.AbstractEventLoop | None = None
        self.failure: BaseException | None = None
        self.last_beat = time.monotonic()
        self._pausing = False

    async def run(self) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        self._stopping.clear()
        self.failure = None
        self.beat()
        self._task = asyncio.create_task(self._guarded(), name=self.task_name)
        self.event_loop = self._task.get_loop()
        _running.add(self)
        LOOP_UP.labels(self.task_name).set(1)

    async def _guarded(self) -> None:
        try:
            await self.run()
            if not self.stopping:
                raise LoopDied(f"{self.task_name} returned before it was stopped")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._died(exc)

    def _died(self, exc: BaseException) -> None:
        self.failure = exc
        LOOP_DEATHS.labels(self.task_name).inc()
        LOOP_UP.labels(self.task_name).set(0)
        log.error("loop_died", loop=self.task_name, error=type(exc).__name__, detail=str(exc)[:300], exc_info=exc)
        for listener in list(_listeners):
            listener(self)

    async def stop(self) -> None:
        """Ask the loop to finish what it is doing and wait for it."""
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        _running.discard(self)
        LOOP_UP.labels(self.task_name).set(0)

    def wake(self, *_: object) -> None:
        """Cut the current pause short (usable as a LISTEN callback)."""
        self._wake.set()

    def beat(self) -> None:
        """Say "still making progress"; a loop that calls neither this nor pause() for stale_after is stuck."""
        self.last_beat = time.monotonic()

    def health(self) -> LoopHealth:
        if self.failure is not None:
            return LoopHealth(self.task_name, False, f"died: {type(self.failure).__name__}: {self.failure}"[:300])
        silent = time.monotonic() - self.last_beat
        if silent > self.stale_after and not self._pausing:  # a long pause (an hourly cleanup) is not stuck
            return LoopHealth(self.task_name, False, f"stuck: no progress for {silent:.0f}s")
        return LoopHealth(self.task_name, True, "ok")

    @property
    def running(self) -> bool:
        """Started and not stopped: its task runs, or died of an error (a task cancelled from outside is gone)."""
        return self._task is not None and (not self._task.done() or self.failure is not None)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def pause(self, seconds: float, *, wakeable: bool = True) -> bool:
        """Wait up to seconds, until stop() (or wake(), when wakeable); True when stopping."""
        self.beat()
        self._pausing = True
        waiters = [asyncio.ensure_future(self._stopping.wait())]
        if wakeable:
            waiters.append(asyncio.ensure_future(self._wake.wait()))
        try:
            _, pending = await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._pausing = False
        for waiter in pending:
            waiter.cancel()
        self.beat()
        return self._stopping.is_set()
