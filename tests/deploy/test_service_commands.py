"""The commands the images' entrypoint and the manifests' `args:` run: `python -m <service> api|worker|migrate`.

attachments and notifications are on the shared command line (casefold_platform.cli): --help everywhere, and no
command is a usage error (exit 2), not a server started by default.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ON_THE_SHARED_CLI = ["attachments", "notifications"]
ROOT = Path(__file__).resolve().parents[2]


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


EVERY_SERVICE = ["identity", "cases", "attachments", "notifications"]


@pytest.mark.parametrize("name", EVERY_SERVICE)
def test_every_service_has_the_dead_letters_command(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    for action in ("list", "redrive", "redrive-topic"):
        assert exit_code(name, "dead-letters", action, "--help") == 0
        assert f"python -m {name} dead-letters {action}" in capsys.readouterr().out


def test_notifications_redrive_of_emails_is_not_the_redrive_of_dead_letters(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code("notifications", "--help") == 0
    out = capsys.readouterr().out
    assert "queue failed EMAILS again" in out
    assert "for events see dead-letters" in out


@pytest.mark.parametrize(
    ("name", "topics"),
    [
        ("identity", []),
        ("cases", ["cases.dlq"]),
        ("attachments", ["attachments.dlq"]),
        ("notifications", ["notifications.dlq", "notifications.mail.dlq"]),
    ],
)
def test_the_dead_letter_topics_a_service_redrives_are_the_deployed_ones(
    name: str, topics: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # As deployed (deploy/k8s/base/config/notifications.env names the mail topic's own dead-letter topic).
    monkeypatch.setenv("NOTIFICATIONS_MAIL_DEAD_LETTER_TOPIC", "notifications.mail.dlq")
    module = importlib.import_module(f"{name}.__main__")
    settings = importlib.import_module(f"{name}.config").Settings()
    deployed = (ROOT / "deploy/k8s/components/strimzi-kafka/topics.yaml").read_text()
    found = sorted(t for c in module.consumers(settings) for t in c.dead_letter_topics)
    assert found == topics
    assert all(f"topicName: {topic}\n" in deployed for topic in found)
