"""The shared command line (help, usage errors, exit codes) and the worker runner (order, signals, partial starts)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import signal

import pytest
from pydantic_settings import SettingsConfigDict

from casefold_platform.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, Command, run_cli
from casefold_platform.commands import worker_command
from casefold_platform.settings import ServiceSettings
from casefold_platform.worker import Parts, run_until_signalled


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_", extra="ignore")


ran: list[str] = []


def _name_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", default="you")


def _sync(settings: DemoSettings, args: argparse.Namespace) -> None:
    ran.append(f"sync {args.name}")


async def _async(settings: DemoSettings, _: argparse.Namespace) -> int:
    ran.append("async")
    return 3


def _fails(settings: DemoSettings, _: argparse.Namespace) -> None:
    raise RuntimeError("boom")


def _interrupted(settings: DemoSettings, _: argparse.Namespace) -> None:
    raise KeyboardInterrupt


COMMANDS = [
    Command("greet", "say hello", _sync, _name_argument),
    Command("count", "an async command with its own exit code", _async),
    Command("fail", "raises", _fails),
    Command("stop", "interrupted", _interrupted),
]


def cli(*argv: str) -> int:
    return run_cli("demo", "Demo service.", COMMANDS, DemoSettings, list(argv))


def test_commands_run_plain_or_async_with_their_own_arguments() -> None:
    ran.clear()
    assert cli("greet", "--name", "ada") == 0
    assert cli("count") == 3
    assert ran == ["sync ada", "async"]


def test_help_lists_every_command_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli("--help")
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "python -m demo" in out
    assert all(name in out for name in ("greet", "count", "fail", "stop"))


def test_each_command_has_its_own_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli("greet", "--help")
    assert exited.value.code == 0
    assert "--name" in capsys.readouterr().out


def test_no_command_prints_the_usage_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli() == EXIT_USAGE
    assert "usage: python -m demo" in capsys.readouterr().err


def test_an_unknown_command_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exited:
        cli("serve")
    assert exited.value.code == EXIT_USAGE


def test_a_failing_command_exits_1_and_ctrl_c_exits_130() -> None:
    assert cli("fail") == EXIT_FAILED
    assert cli("stop") == EXIT_INTERRUPTED


class Recorder:
    def __init__(self, name: str, log: list[str], *, fail_start: bool = False) -> None:
        self.name, self.log, self.fail_start = name, log, fail_start

    async def start(self) -> None:
        if self.fail_start:
            raise RuntimeError(f"{self.name} cannot start")
        self.log.append(f"start {self.name}")

    async def stop(self) -> None:
        self.log.append(f"stop {self.name}")


async def test_parts_stop_in_reverse_order_of_starting() -> None:
    log: list[str] = []
    parts = Parts(Recorder("delivery", log), Recorder("consumer", log))
    await parts.start()
    await parts.stop()
    assert log == ["start delivery", "start consumer", "stop consumer", "stop delivery"]


async def test_a_part_that_failed_to_start_leaves_only_the_started_ones_to_stop() -> None:
    log: list[str] = []
    parts = Parts(Recorder("a", log), Recorder("b", log, fail_start=True), Recorder("c", log))
    with pytest.raises(RuntimeError):
        await parts.start()
    await parts.stop()
    assert log == ["start a", "stop a"]


async def test_the_runner_stops_its_parts_on_sigterm() -> None:
    log: list[str] = []
    running = asyncio.create_task(run_until_signalled(Parts(Recorder("loop", log))))
    while log != ["start loop"]:
        await asyncio.sleep(0.01)
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(running, timeout=5)
    assert log == ["start loop", "stop loop"]
    # The handler is removed again: a second runner installs its own.
    assert asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM) is False


def test_the_worker_traces_as_service_worker_and_other_commands_as_the_service(monkeypatch: pytest.MonkeyPatch) -> None:
    names: list[str] = []
    monkeypatch.setattr("casefold_platform.cli.configure_tracing", names.append)
    worker = worker_command(_no_migrations, _no_worker, "the worker")
    commands = [*COMMANDS, dataclasses.replace(worker, run=_sync_unnamed)]

    assert run_cli("demo", "Demo service.", commands, DemoSettings, ["worker"]) == 0
    assert run_cli("demo", "Demo service.", commands, DemoSettings, ["count"]) == 3
    assert names == ["demo-worker", "demo"]


async def _no_migrations(_: DemoSettings) -> list[str]:
    return []


def _no_worker(_: DemoSettings, __: object) -> contextlib.AbstractAsyncContextManager[Parts]:
    raise AssertionError("not started in this test")


def _sync_unnamed(_: DemoSettings, __: argparse.Namespace) -> None:
    return None
