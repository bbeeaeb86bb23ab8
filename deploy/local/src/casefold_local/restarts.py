"""The local runner restarts a crashed service with backoff, as Kubernetes would, instead of stopping everything.

A process that exited is started again after 1 s, 2 s, 4 s ... up to 30 s (the delay resets once it has stayed up a
minute); a service whose /healthz fails three probes in a row (a dead or stuck background loop: the API process runs
its relay and consumers locally) is killed and so restarted too. Every exit, kill and restart is reported on the
console (`casefold: cases exited with code -9; restarting in 1s (restart 1)`) and counted in `restarts`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpx

from casefold_local.managed import ManagedProcess

INITIAL_DELAY = 1.0
MAX_DELAY = 30.0
STABLE_AFTER = 60.0
PROBE_EVERY = 10.0
PROBE_GRACE = 30.0  # a process starting up (migrations, consumers joining) is not probed yet
FAILURES_TO_KILL = 3


@dataclass
class _State:
    restarts: int = 0
    delay: float = INITIAL_DELAY
    due: float | None = None  # when the pending restart happens
    up_since: float = 0.0
    next_probe: float = 0.0
    failed_probes: int = 0


class Restarter:
    """Call supervise() often; it restarts what died, when its backoff has passed."""

    def __init__(
        self,
        report: Callable[[str], None],
        probes: dict[str, str] | None = None,
        *,
        initial_delay: float = INITIAL_DELAY,
        max_delay: float = MAX_DELAY,
    ) -> None:
        self.report = report
        self.probes = probes or {}
        self.initial_delay = initial_delay
        self.max_delay = max_delay
        self._state: dict[str, _State] = {}
        self.restarts: dict[str, int] = {}
        self.held: set[str] = set()  # left down on purpose (an outage being rehearsed): not restarted meanwhile

    def supervise(self, processes: Iterable[ManagedProcess]) -> None:
        now = time.monotonic()
        for process in processes:
            if process.proc is None or process.name in self.held:
                continue  # never started by us (stopped elsewhere, or not part of this run), or held down
            state = self._state.setdefault(
                process.name, _State(delay=self.initial_delay, up_since=now, next_probe=now + PROBE_GRACE)
            )
            code = process.exited()
            if code is None:
                if state.restarts and now - state.up_since > STABLE_AFTER:
                    state.delay = self.initial_delay
                self._probe(process, state, now)
                continue
            if state.due is None:
                state.due = now + state.delay
                self.report(f"casefold: {process.name} exited with code {code}; restarting in {state.delay:.1f}s "
                            f"(restart {state.restarts + 1}, log {process.log_file})")  # fmt: skip
            elif now >= state.due:
                process.start()
                state.restarts += 1
                self.restarts[process.name] = state.restarts
                state.delay = min(state.delay * 2, self.max_delay)
                state.due, state.up_since = None, now
                state.next_probe, state.failed_probes = now + PROBE_GRACE, 0
                self.report(f"casefold: {process.name} restarted (pid {process.proc.pid if process.proc else '?'})")

    def _probe(self, process: ManagedProcess, state: _State, now: float) -> None:
        url = self.probes.get(process.name)
        if url is None or now < state.next_probe:
            return
        state.next_probe = now + PROBE_EVERY
        try:
            healthy = httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            healthy = False
        state.failed_probes = 0 if healthy else state.failed_probes + 1
        if state.failed_probes >= FAILURES_TO_KILL and process.proc is not None:
            self.report(f"casefold: {process.name} failed {FAILURES_TO_KILL} liveness probes ({url}); killing it")
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.proc.pid, signal.SIGKILL)
            state.failed_probes = 0
