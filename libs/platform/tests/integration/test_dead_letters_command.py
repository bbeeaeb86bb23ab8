"""`dead-letters list | redrive | redrive-topic` on a real broker and database: a parked letter re-driven is handled
by the running consumer once and its row goes; a publish Kafka refuses keeps the row; a dead-letter topic's messages
are copied back to their source topic; repeats (a re-drive that died half-way and is run again) are absorbed by the
consumer's inbox."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from events_builders import comment_envelope, until
from pydantic_settings import SettingsConfigDict

from casefold_events.consumer import PARK, ConsumerRunner
from casefold_events.dead_letters import ConsumerTopics
from casefold_events.envelope import Envelope, encode, kafka_headers
from casefold_events.migrate import migrate, shared_migrations
from casefold_platform.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Command, parser_for
from casefold_platform.commands import dead_letters_command
from casefold_platform.settings import ServiceSettings
from casefold_testing.plugin import TopicFactory

pytestmark = pytest.mark.integration


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_", extra="ignore")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def pool(database: str) -> AsyncIterator[asyncpg.Pool]:
    await migrate(database, [shared_migrations()])
    pool = await asyncpg.create_pool(database, min_size=1, max_size=10)
    try:
        yield pool
    finally:
        await pool.close()


class Flaky:
    """A handler that fails on `bad` until fixed, and records every event it applied (in order, repeats kept)."""

    def __init__(self, bad: Envelope) -> None:
        self.bad, self.fixed = bad, False
        self.applied: list[uuid.UUID] = []

    async def __call__(self, conn: asyncpg.Connection, envelope: Envelope) -> None:
        if envelope.event_id == self.bad.event_id and not self.fixed:
            raise ValueError("cannot project this")
        self.applied.append(envelope.event_id)


class Demo:
    """A consumer that dead-letters `bad` to dead_letter_topic while the handler is broken, and the command."""

    def __init__(self, database: str, pool: asyncpg.Pool, bootstrap: str, topic: str, dead_letter_topic: str) -> None:
        self.bad, self.good = comment_envelope(), comment_envelope()
        self.handler = Flaky(self.bad)
        self.name = f"redrive-{uuid.uuid4().hex[:6]}"
        self.topic, self.dead_letter_topic = topic, dead_letter_topic
        self.runner = ConsumerRunner(self.name, bootstrap, [topic], pool, self.handler,
                                     dead_letter_topic=dead_letter_topic, max_attempts=1, backoff_initial=0.01,
                                     backoff_max=0.2)  # fmt: skip
        self.settings = DemoSettings(database_url=database, kafka_bootstrap_servers=bootstrap)
        self.command: Command[DemoSettings] = dead_letters_command(
            lambda _: [ConsumerTopics.of(self.name, [topic], dead_letter_topic=dead_letter_topic)]
        )

    async def poison(self, producer: AIOKafkaProducer) -> None:
        """Publish bad then good; back once good was applied (bad was dead-lettered, or parked, before it)."""
        for envelope in (self.bad, self.good):
            await producer.send_and_wait(self.topic, encode(envelope), key=b"k", headers=kafka_headers(envelope))
        await until(lambda: self.handler.applied == [self.good.event_id])

    async def cli(self, *argv: str) -> int:
        args = parser_for("demo", "", [self.command]).parse_args(["dead-letters", *argv])
        outcome = self.command.run(self.settings, args)
        assert isinstance(outcome, Coroutine)
        result: Any = await outcome
        assert isinstance(result, int)
        return result

    def applied(self, envelope: Envelope) -> int:
        return self.handler.applied.count(envelope.event_id)


async def _settle() -> None:
    """Long enough for the running consumer to have handled anything it was going to (a repeat, here)."""
    await asyncio.sleep(2)


async def test_a_parked_letter_redriven_is_handled_once_and_its_row_goes(
    database: str, pool: asyncpg.Pool, kafka_bootstrap: str, kafka_topic: str, tiny_topic: str,
    producer: AIOKafkaProducer, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    demo = Demo(database, pool, kafka_bootstrap, kafka_topic, tiny_topic)  # the dead letter is too large: parked
    await demo.runner.start()
    try:
        await demo.poison(producer)
        (letter_id,) = [r["id"] for r in await pool.fetch("SELECT id FROM dead_letters WHERE consumer = $1", demo.name)]

        assert await demo.cli("list", "--consumer", demo.name) == EXIT_OK
        listed = capsys.readouterr().out
        assert f"{letter_id}\t{demo.name}\t{kafka_topic}/0/0\t" in listed
        assert "ValueError: cannot project this" in listed

        demo.handler.fixed = True
        assert await demo.cli("redrive", "--id", str(letter_id)) == EXIT_OK
        assert f"redrove {letter_id} to {kafka_topic}/0/2; row deleted" in capsys.readouterr().out
        await until(lambda: demo.applied(demo.bad) == 1)
        assert await pool.fetchval("SELECT count(*) FROM dead_letters WHERE consumer = $1", demo.name) == 0

        # A re-drive that died after Kafka's ack, before the delete, leaves the row: run again, the inbox absorbs it.
        await _park_again(pool, demo.name, kafka_topic, demo.bad)
        assert await demo.cli("redrive", "--consumer", demo.name) == EXIT_OK
        await _settle()
        assert (demo.applied(demo.bad), demo.applied(demo.good)) == (1, 1)
        assert await pool.fetchval("SELECT count(*) FROM dead_letters WHERE consumer = $1", demo.name) == 0
    finally:
        await demo.runner.stop()
    # What was published carries the original headers, not the failure's, and says where it came from.
    (copy,) = [r for r in await _records(kafka_bootstrap, kafka_topic) if r.offset == 2]
    headers = dict(copy.headers)
    assert headers["event_id"] == str(demo.bad.event_id).encode()
    assert headers["dlq.redriven"] == f"dead_letters/{letter_id}".encode()
    assert not {"dlq.error", "dlq.source", "dlq.consumer"} & set(headers)
    assert (copy.key, copy.value) == (b"k", encode(demo.bad))


async def test_a_redrive_kafka_refuses_keeps_the_row_and_goes_on_with_the_next(
    database: str,
    pool: asyncpg.Pool,
    kafka_bootstrap: str,
    kafka_topic: str,
    tiny_topic: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    demo = Demo(database, pool, kafka_bootstrap, kafka_topic, f"{kafka_topic}.dlq")
    too_large, fine = comment_envelope(), comment_envelope()
    await _park_again(pool, demo.name, tiny_topic, too_large)  # its source topic takes no record this large
    await _park_again(pool, demo.name, kafka_topic, fine)

    assert await demo.cli("redrive", "--consumer", demo.name) == EXIT_FAILED

    out, err = capsys.readouterr()
    rows = await pool.fetch("SELECT source_topic, value FROM dead_letters WHERE consumer = $1", demo.name)
    assert [(r["source_topic"], r["value"]) for r in rows] == [(tiny_topic, encode(too_large))]
    assert "the publish failed" in err
    assert "TooLarge" in err
    assert "row deleted" in out
    assert [r.value for r in await _records(kafka_bootstrap, kafka_topic)] == [encode(fine)]


async def test_unknown_ids_and_consumers_are_refused_by_name(
    database: str, pool: asyncpg.Pool, kafka_bootstrap: str, kafka_topic: str, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = Demo(database, pool, kafka_bootstrap, kafka_topic, f"{kafka_topic}.dlq")

    assert await demo.cli("redrive", "--id", "987654") == EXIT_USAGE
    assert "no parked dead letter has id 987654" in capsys.readouterr().err
    assert await demo.cli("redrive", "--consumer", "nobody") == EXIT_USAGE
    err = capsys.readouterr().err  # the service's consumers, and any with letters parked (earlier tests')
    assert "unknown consumer 'nobody'; this service's: " in err
    assert demo.name in err
    assert await demo.cli("list", "--consumer", "nobody") == EXIT_USAGE
    assert await demo.cli("redrive", "--consumer", demo.name) == EXIT_OK  # known, nothing parked
    assert f"nothing parked for {demo.name}" in capsys.readouterr().out


async def test_a_dead_letter_topic_is_copied_back_to_its_source_and_handled_once(
    database: str, pool: asyncpg.Pool, kafka_bootstrap: str, kafka_topic: str, topic_factory: TopicFactory,
    producer: AIOKafkaProducer, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    demo = Demo(database, pool, kafka_bootstrap, kafka_topic, await topic_factory("dlq"))
    await demo.runner.start()
    try:
        await demo.poison(producer)  # bad is on the dead-letter topic, at offset 0
        await producer.send_and_wait(demo.dead_letter_topic, b"not ours")  # offset 1: no dlq.source

        assert await demo.cli("redrive-topic", "--topic", demo.dead_letter_topic, "--dry-run") == EXIT_OK
        assert f"would copy offset 0 to {kafka_topic}/0 (event {demo.bad.event_id}" in capsys.readouterr().out
        assert await demo.cli("redrive-topic", "--topic", demo.dead_letter_topic) == EXIT_USAGE  # from where?
        assert "was never re-driven" in capsys.readouterr().err
        await _settle()
        assert demo.applied(demo.bad) == 0  # a dry run copies nothing

        demo.handler.fixed = True
        assert await demo.cli("redrive-topic", "--topic", demo.dead_letter_topic, "--from-offset", "0") == EXIT_OK
        out = capsys.readouterr().out
        assert f"copied offset 0 to {kafka_topic}/0" in out
        assert "skipped offset 1: no dlq.source header" in out
        await until(lambda: demo.applied(demo.bad) == 1)

        # The drain group remembers where it stopped: the next run starts there, past what was copied.
        assert await demo.cli("redrive-topic", "--topic", demo.dead_letter_topic) == EXIT_OK
        assert "0 copied, 0 skipped" in capsys.readouterr().out
        assert await demo.cli("redrive-topic", "--topic", demo.dead_letter_topic, "--dry-run") == EXIT_OK
        assert "0 would copy, 0 skipped" in capsys.readouterr().out

        # Run again from an earlier offset (as after a crash half-way): copied again, handled once still.
        assert await demo.cli("redrive-topic", "--topic", demo.dead_letter_topic, "--from-offset", "0") == EXIT_OK
        assert "1 copied, 1 skipped" in capsys.readouterr().out
        await _settle()
        assert (demo.applied(demo.bad), demo.applied(demo.good)) == (1, 1)
    finally:
        await demo.runner.stop()
    copies = [r for r in await _records(kafka_bootstrap, kafka_topic) if r.value == encode(demo.bad)]
    assert len(copies) == 3  # the original and two copies
    assert dict(copies[1].headers)["dlq.redriven"] == f"{demo.dead_letter_topic}/0/0".encode()

    assert await demo.cli("redrive-topic", "--topic", "someone.elses.dlq", "--from-offset", "0") == EXIT_USAGE
    assert f"not a dead-letter topic of this service's; these are: {demo.dead_letter_topic}" in capsys.readouterr().err
    assert await demo.cli("redrive-topic", "--topic", demo.dead_letter_topic, "--partition", "3",
                          "--from-offset", "0") == EXIT_USAGE  # fmt: skip
    assert f"{demo.dead_letter_topic} has no partition 3 (it has 0)" in capsys.readouterr().err


async def _park_again(pool: asyncpg.Pool, consumer: str, topic: str, envelope: Envelope) -> None:
    """Park a letter as the runner does (its headers plus the runner's dlq.* ones)."""
    headers = [*kafka_headers(envelope), ("dlq.error", b"ValueError: x"), ("dlq.source", f"{topic}/0/0".encode()),
               ("dlq.consumer", consumer.encode())]  # fmt: skip
    offset = uuid.uuid4().int % 10**12  # unique per parked letter
    await pool.execute(PARK, consumer, topic, 0, offset, f"{consumer}.dlq", b"k", encode(envelope),
                       [h[0] for h in headers], [h[1] for h in headers], "ValueError: x", "TooLarge")  # fmt: skip


async def _records(bootstrap: str, topic: str) -> list[Any]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        records: list[Any] = []
        while batch := await consumer.getmany(timeout_ms=1000):
            records.extend(r for rs in batch.values() for r in rs)
        return records
    finally:
        await consumer.stop()
