"""The local runner restarts a crashed process with growing delays and says so, as Kubernetes would."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from casefold_local.managed import ManagedProcess
from casefold_local.restarts import Restarter


def _supervise_for(restarter: Restarter, process: ManagedProcess, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        restarter.supervise([process])
        time.sleep(0.02)


def test_a_crashed_process_is_restarted_with_backoff_and_reported(tmp_path: Path) -> None:
    marker = "crash-on-start-for-the-restart-test"
    process = ManagedProcess("crasher", [sys.executable, "-c", f"import sys; sys.exit(3)  # {marker}"], tmp_path,
                             marker=marker)  # fmt: skip
    lines: list[str] = []
    restarter = Restarter(lines.append, initial_delay=0.1, max_delay=0.4)
    process.start()
    try:
        _supervise_for(restarter, process, 1.5)
    finally:
        process.stop()

    exits = [line for line in lines if "exited with code 3" in line]
    assert restarter.restarts["crasher"] >= 3
    assert "restarting in 0.1s (restart 1" in exits[0]
    assert "restarting in 0.2s (restart 2" in exits[1]
    assert "restarting in 0.4s (restart 3" in exits[2]  # capped from here on
    assert any(line.startswith("casefold: crasher restarted (pid ") for line in lines)


def test_a_held_process_stays_down_until_released(tmp_path: Path) -> None:
    marker = "exits-at-once-for-the-hold-test"
    process = ManagedProcess("held", [sys.executable, "-c", f"pass  # {marker}"], tmp_path, marker=marker)
    restarter = Restarter(lambda _: None, initial_delay=0.05)
    restarter.held.add("held")
    process.start()
    try:
        _supervise_for(restarter, process, 0.5)
        assert "held" not in restarter.restarts
        restarter.held.discard("held")
        _supervise_for(restarter, process, 0.5)
        assert restarter.restarts["held"] >= 1
    finally:
        process.stop()


def test_a_process_we_did_not_start_is_left_alone(tmp_path: Path) -> None:
    lines: list[str] = []
    Restarter(lines.append).supervise([ManagedProcess("other", ["true"], tmp_path, marker="true")])
    assert lines == []
