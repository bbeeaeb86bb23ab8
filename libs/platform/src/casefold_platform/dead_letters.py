"""`dead-letters list | redrive | redrive-topic`: what a service's consumers dead-lettered, and its re-drive.

- `list [--consumer NAME]`: the letters parked in the service's `dead_letters` table (Kafka refused them).
- `redrive --id N | --consumer NAME`: publish parked letters back to the topic and partition they came from, then
  delete each row once Kafka acknowledged it.
- `redrive-topic --topic T [--partition P] [--from-offset N] [--end-offset M] [--dry-run]`: copy what a dead-letter
  topic holds, from an offset (default: where the last re-drive stopped), back to where each message came from.

The consumer handles a re-driven event again through its inbox (a copy of an event already handled is skipped): see
casefold_events.dead_letters. Exit codes: 0 done, 1 a publish failed (the output says what is left), 2 bad input (an
unknown id, consumer or topic). In production a consumer's KafkaUser may only read the topics it consumes: pass
`--publish-as <kafka-user>` (the topic's owner) with that user's password on stdin.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from casefold_events import pools
from casefold_events.dead_letters import (
    ConsumerTopics,
    NotFound,
    PublishFailed,
    Skipped,
    TopicRedriveStopped,
    drain_group,
    known_consumers,
    parked,
    partitions_of,
    redrive_parked,
    redrive_topic,
)
from casefold_platform.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Command, S

Consumers = Callable[[S], Sequence[ConsumerTopics]]


def _whole(text: str, what: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what} is a whole number, not {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"{what} is {least} or more, not {value}")
    return value


def _offset(text: str) -> int:
    return _whole(text, "an offset", 0)


def _partition(text: str) -> int:
    return _whole(text, "a partition", 0)


def _letter_id(text: str) -> int:
    return _whole(text, "a dead letter's id", 1)


def _arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", title="actions", required=True)
    listing = actions.add_parser("list", help="list the parked dead letters (Kafka refused them), oldest first")
    listing.add_argument("--consumer", help="only this consumer's")

    redrive = actions.add_parser(
        "redrive", help="publish parked dead letters back to their source topic, then delete their rows"
    )
    which = redrive.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", dest="letter_id", type=_letter_id, help="one parked letter (its id in `list`)")
    which.add_argument("--consumer", help="all the letters this consumer parked")
    _publish_as(redrive)

    topic = actions.add_parser(
        "redrive-topic", help="copy a dead-letter topic's messages, from an offset, back to their source topics"
    )
    topic.add_argument("--topic", required=True, help="the dead-letter topic, e.g. notifications.dlq")
    topic.add_argument("--partition", type=_partition, default=0, help="its partition (default 0)")
    topic.add_argument(
        "--from-offset", type=_offset,
        help="the first offset to copy (default: where the last re-drive stopped, remembered by the group "
             "<topic>-drain; a dry run without one starts at the oldest kept)",
    )  # fmt: skip
    topic.add_argument("--end-offset", type=_offset, help="stop before this offset (default: the end, now)")
    topic.add_argument("--dry-run", action="store_true", help="only print what would be copied")
    _publish_as(topic)


def _publish_as(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--publish-as", metavar="KAFKA_USER",
        help="publish with this Kafka user (SASL), its password read from stdin (asked, on a terminal): the source "
             "topic's owner",
    )  # fmt: skip


class BadInput(Exception):
    """Input the command refuses (exit 2); the message says why."""


def dead_letters_command(consumers: Consumers[S]) -> Command[S]:
    """`dead-letters`: list and re-drive the dead letters of the consumers `consumers(settings)` names."""

    async def dead_letters(settings: S, args: argparse.Namespace) -> int:
        mine = list(consumers(settings))
        try:
            if args.action == "list":
                return await _list(settings, mine, args)
            if args.action == "redrive":
                return await _redrive(settings, mine, args)
            return await _redrive_topic(settings, mine, args)
        except (BadInput, NotFound) as exc:
            print(f"refused: {exc}", file=sys.stderr)
            return EXIT_USAGE

    return Command(
        "dead-letters",
        "list the dead letters parked in the database and re-drive them, or a dead-letter topic, to the consumer",
        dead_letters,
        _arguments,
    )


async def _check_consumer(conn: asyncpg.Connection, mine: Sequence[ConsumerTopics], name: str | None) -> None:
    if name is None or name in {c.name for c in mine}:
        return
    known = await known_consumers(conn, [c.name for c in mine])
    raise BadInput(f"unknown consumer {name!r}; this service's: {', '.join(known) or 'none'}")


async def _list(settings: S, mine: Sequence[ConsumerTopics], args: argparse.Namespace) -> int:
    conn = await pools.connect(settings.database_url)
    try:
        await _check_consumer(conn, mine, args.consumer)
        letters = await parked(conn, args.consumer)
    finally:
        await conn.close()
    if not letters:
        print("nothing parked")
        return EXIT_OK
    print("id\tconsumer\tsource (topic/partition/offset)\tparked_at\terror\trefused by Kafka")
    for letter in letters:
        error, refused = (" ".join(text.split()) for text in (letter.error, letter.refused_by_kafka))
        print(f"{letter.id}\t{letter.consumer}\t{letter.source}\t{letter.parked_at.isoformat()}\t{error}\t{refused}")
    return EXIT_OK


def _producer_options(settings: S, args: argparse.Namespace) -> dict[str, Any]:
    """The service's Kafka options; with --publish-as, that user and the password on stdin instead."""
    options = settings.kafka_options()
    if args.publish_as is None:
        return options
    if not settings.kafka_sasl_mechanism:
        raise BadInput("--publish-as needs SASL: the service's KAFKA_SASL_MECHANISM is not set")
    if sys.stdin.isatty():
        password = getpass.getpass(f"Kafka password of {args.publish_as}: ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise BadInput(f"--publish-as {args.publish_as}: give the user's password on stdin")
    return {**options, "sasl_plain_username": args.publish_as, "sasl_plain_password": password}


def _producer(settings: S, options: dict[str, Any]) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", enable_idempotence=True, **options
    )


async def _redrive(settings: S, mine: Sequence[ConsumerTopics], args: argparse.Namespace) -> int:
    options = _producer_options(settings, args)
    conn = await pools.connect(settings.database_url)
    try:
        await _check_consumer(conn, mine, args.consumer)
        producer = _producer(settings, options)
        await producer.start()
        try:
            failed = redriven = 0
            async for outcome in redrive_parked(conn, producer, letter_id=args.letter_id, consumer=args.consumer):
                if isinstance(outcome, PublishFailed):
                    failed += 1
                    print(f"kept {outcome.id}: the publish failed ({outcome.error})", file=sys.stderr)
                    if outcome.stopped:
                        print("stopped: fix that and run again; the rows not re-driven are kept", file=sys.stderr)
                else:
                    redriven += 1
                    print(f"redrove {outcome.id} to {outcome.topic}/{outcome.partition}/{outcome.offset}; row deleted")
        finally:
            await producer.stop()
    finally:
        await conn.close()
    if not failed and not redriven:  # (an id: another re-drive took it meanwhile)
        print(f"nothing parked for {args.consumer}" if args.consumer else f"{args.letter_id} was re-driven meanwhile")
    return EXIT_FAILED if failed else EXIT_OK


async def _redrive_topic(settings: S, mine: Sequence[ConsumerTopics], args: argparse.Namespace) -> int:
    owners = [c for c in mine if args.topic in c.dead_letter_topics]
    if not owners:
        topics = sorted({t for c in mine for t in c.dead_letter_topics})
        raise BadInput(f"{args.topic} is not a dead-letter topic of this service's; these are: "
                       f"{', '.join(topics) or 'none'}")  # fmt: skip
    sources = {t for c in owners for t in c.topics}
    options = _producer_options(settings, args) if not args.dry_run else {}
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers, **settings.kafka_options())
    await admin.start()
    try:
        partitions = await partitions_of(admin, args.topic)
    finally:
        await admin.close()
    if args.partition not in partitions:
        raise BadInput(f"{args.topic} has no partition {args.partition} (it has {', '.join(map(str, partitions))})")
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, group_id=drain_group(args.topic),
                                enable_auto_commit=False, **settings.kafka_options())  # fmt: skip
    producer = None if args.dry_run else _producer(settings, options)
    await consumer.start()
    try:
        if producer is not None:
            await producer.start()
        copied = skipped = 0
        verb = "would copy" if args.dry_run else "copied"
        try:
            async for outcome in redrive_topic(consumer, producer, args.topic, args.partition, args.from_offset,
                                               sources=sources, end_offset=args.end_offset):  # fmt: skip
                if isinstance(outcome, Skipped):
                    skipped += 1
                    print(f"skipped offset {outcome.offset}: {outcome.reason}")
                    continue
                copied += 1
                print(f"{verb} offset {outcome.offset} to {outcome.topic}/{outcome.partition} "
                      f"(event {outcome.event_id}; it failed with {outcome.error})")  # fmt: skip
        except TopicRedriveStopped as exc:
            print(str(exc), file=sys.stderr)
            return EXIT_FAILED
        finally:
            if producer is not None:
                await producer.stop()
    finally:
        await consumer.stop()
    print(f"{args.topic}/{args.partition}: {copied} {verb}, {skipped} skipped")
    return EXIT_OK
