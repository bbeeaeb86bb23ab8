"""`python -m identity` is on the shared command line: --help everywhere, and no command is a usage error (exit 2),
never a server started by default."""

from __future__ import annotations

import subprocess
import sys

import pytest

from identity.__main__ import COMMANDS, main

EVERY_COMMAND = [c.name for c in COMMANDS]


def exit_code(*argv: str) -> int:
    try:
        return int(main(list(argv)))
    except SystemExit as exited:  # argparse, for --help and usage errors
        return int(exited.code or 0)


def test_help_names_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code("--help") == 0
    out = capsys.readouterr().out
    for command in ("api", "worker", "migrate", "create-admin", "purge-unverified", "rebuild-read-model",
                    "rotate-signing-key", "retire-signing-keys"):  # fmt: skip
        assert command in out


@pytest.mark.parametrize("command", EVERY_COMMAND)
def test_each_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code(command, "--help") == 0
    assert f"python -m identity {command}" in capsys.readouterr().out


def test_create_admin_without_its_email_is_a_usage_error() -> None:
    assert exit_code("create-admin", "--display-name", "Site Admin") == 2


def test_an_unknown_command_is_a_usage_error() -> None:
    assert exit_code("serve") == 2


def test_no_command_prints_the_usage_instead_of_starting_a_server() -> None:
    done = subprocess.run([sys.executable, "-m", "identity"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "usage: python -m identity" in done.stderr
