"""`dead-letters`: what it refuses before reaching PostgreSQL or Kafka (usage errors exit 2, naming the problem)."""

from __future__ import annotations

import io
from collections.abc import Coroutine
from typing import Any

import pytest
from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from casefold_events.dead_letters import ConsumerTopics
from casefold_platform.cli import EXIT_USAGE, Command, parser_for
from casefold_platform.commands import dead_letters_command
from casefold_platform.settings import ServiceSettings


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_", extra="ignore")


# Nothing listens here: a test that got past the argument checks would fail to connect, not pass.
NOWHERE = DemoSettings(database_url="postgresql://nobody@127.0.0.1:9/none", kafka_bootstrap_servers="127.0.0.1:9")
COMMAND: Command[DemoSettings] = dead_letters_command(
    lambda _: [ConsumerTopics.of("demo", ["demo.events.v1", "demo.mail.v1"], {"demo.mail.v1": "demo.mail.dlq"})]
)


def parse(*argv: str) -> Any:
    return parser_for("demo", "", [COMMAND]).parse_args(["dead-letters", *argv])


async def run(settings: DemoSettings, *argv: str) -> Any:
    outcome = COMMAND.run(settings, parse(*argv))
    assert isinstance(outcome, Coroutine)
    return await outcome


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        ((), "required: ACTION"),
        (("redrive",), "one of the arguments --id --consumer is required"),
        (("redrive", "--id", "1", "--consumer", "demo"), "not allowed with argument"),
        (("redrive", "--id", "seven"), "a dead letter's id is a whole number, not 'seven'"),
        (("redrive", "--id", "0"), "a dead letter's id is 1 or more, not 0"),
        (("redrive-topic", "--topic", "demo.dlq", "--from-offset", "-1"), "an offset is 0 or more, not -1"),
        (("redrive-topic", "--from-offset", "0"), "required: --topic"),
        (("redrive-topic", "--topic", "demo.dlq", "--from-offset", "0", "--partition", "x"), "a partition is a whole"),
        (("list", "--id", "3"), "unrecognized arguments: --id 3"),
    ],
)
def test_usage_errors_exit_2_and_name_the_problem(
    argv: tuple[str, ...], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse(*argv)
    assert exited.value.code == EXIT_USAGE
    assert complaint in capsys.readouterr().err


def test_the_two_ways_of_choosing_what_to_redrive_parse() -> None:
    assert (parse("redrive", "--id", "12").letter_id, parse("redrive", "--id", "12").consumer) == (12, None)
    assert (parse("redrive", "--consumer", "demo").letter_id, parse("redrive", "--consumer", "demo").consumer) == (
        None,
        "demo",
    )
    topic = parse("redrive-topic", "--topic", "demo.dlq", "--from-offset", "40")
    assert (topic.partition, topic.from_offset, topic.end_offset, topic.dry_run) == (0, 40, None, False)
    assert parse("redrive-topic", "--topic", "demo.dlq").from_offset is None  # where the last re-drive stopped


async def test_a_topic_that_is_not_one_of_the_services_dead_letter_topics_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await run(NOWHERE, "redrive-topic", "--topic", "demo.events.v1", "--from-offset", "0") == EXIT_USAGE
    err = capsys.readouterr().err
    assert "demo.events.v1 is not a dead-letter topic of this service's; these are: demo.dlq, demo.mail.dlq" in err


async def test_publish_as_needs_sasl_and_a_password_on_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await run(NOWHERE, "redrive", "--consumer", "demo", "--publish-as", "cases") == EXIT_USAGE
    assert "--publish-as needs SASL" in capsys.readouterr().err

    sasl = NOWHERE.model_copy(update={"kafka_sasl_mechanism": "SCRAM-SHA-512", "kafka_sasl_username": "demo",
                                      "kafka_sasl_password": SecretStr("secret")})  # fmt: skip
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    args = ("redrive-topic", "--topic", "demo.dlq", "--from-offset", "0", "--publish-as", "cases")
    assert await run(sasl, *args) == EXIT_USAGE
    assert "--publish-as cases: give the user's password on stdin" in capsys.readouterr().err
