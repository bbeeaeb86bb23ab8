"""The commands the images' entrypoint and the manifests' `args:` run: `python -m <service> api|worker|migrate`.

attachments and notifications are on the shared command line (casefold_platform.cli): --help everywhere, and no
command is a usage error (exit 2), not a server started by default.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

ON_THE_SHARED_CLI = ["attachments", "notifications"]


def exit_code(name: str, *argv: str) -> int:
    main = importlib.import_module(f"{name}.__main__").main
    try:
        return int(main(list(argv)))
    except SystemExit as exited:  # argparse, for --help and usage errors
        return int(exited.code or 0)


@pytest.mark.parametrize("name", ON_THE_SHARED_CLI)
def test_help_names_the_commands_the_manifests_run(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code(name, "--help") == 0
    out = capsys.readouterr().out
    assert all(command in out for command in ("api", "worker", "migrate"))


@pytest.mark.parametrize("name", ON_THE_SHARED_CLI)
def test_each_command_has_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("api", "worker", "migrate"):
        assert exit_code(name, command, "--help") == 0
        assert f"python -m {name} {command}" in capsys.readouterr().out


@pytest.mark.parametrize("name", ON_THE_SHARED_CLI)
def test_an_unknown_command_is_a_usage_error(name: str) -> None:
    assert exit_code(name, "serve") == 2


@pytest.mark.parametrize("name", ON_THE_SHARED_CLI)
def test_no_command_is_a_usage_error_not_a_server(name: str) -> None:
    done = subprocess.run([sys.executable, "-m", name], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert f"usage: python -m {name}" in done.stderr
