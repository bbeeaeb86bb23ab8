"""Look at and re-drive dead letters, once their cause is fixed: those parked in the `dead_letters` table (Kafka
refused them) and those on a `<consumer>.dlq` topic.

A re-drive publishes the original message (key, value, its own headers) back to the topic and partition the
consumer read it from, so the consumer's normal path handles it again. That is at-least-once, like the outbox relay:
every consumer records handled event ids in its inbox, so a copy of an event already handled (by this group or any
other reading the topic) is skipped. Our own `dlq.*` headers, which describe the earlier failure, are left off; a
`dlq.redriven` header says where the copy came from (a new failure adds fresh `dlq.*` headers to it).

A parked row is deleted only after Kafka acknowledged its copy, in the transaction that locked it (two re-drives at
once never publish the same row twice; one that dies half-way leaves the row, to be re-driven again). A topic re-drive
copies from a given offset (by default, where the last one stopped: the drain group remembers) up to the end the
partition had when it started (a message that fails again comes back to the end of the same topic and is not copied
again in the same run); the drain group's position moves past each message only after its copy was acknowledged,
so a re-drive that dies half-way is run again from where it stopped and loses nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError, MessageSizeTooLargeError, RecordTooLargeError, TopicAuthorizationFailedError

__all__ = [
    "ConsumerTopics",
    "Copied",
    "NotFound",
    "ParkedLetter",
    "PublishFailed",
    "Redriven",
    "Skipped",
    "TopicRedriveStopped",
    "default_dead_letter_topic",
    "drain_group",
    "known_consumers",
    "parked",
    "partitions_of",
    "redrive_parked",
    "redrive_topic",
]

# Headers the consumer adds to a dead letter (consumer.py): about the failure, not part of the message.
DLQ_HEADER_PREFIX = "dlq."
REDRIVEN_HEADER = "dlq.redriven"
# A refusal of this message or of its topic (its size; publishing there is not allowed, as when re-driving as one
# topic's owner letters of several topics): the next ones may still go through.
REFUSED_THIS_MESSAGE: tuple[type[KafkaError], ...] = (
    MessageSizeTooLargeError,
    RecordTooLargeError,
    TopicAuthorizationFailedError,
)

LIST = """
    SELECT id, consumer, source_topic, source_partition, source_offset, target_topic, error, refused_by_kafka,
           parked_at
    FROM dead_letters WHERE $1::text IS NULL OR consumer = $1 ORDER BY id
"""
IDS = "SELECT id FROM dead_letters WHERE consumer = $1 ORDER BY id"
CONSUMERS = "SELECT DISTINCT consumer FROM dead_letters ORDER BY consumer"
LOCK = """
    SELECT id, source_topic, source_partition, message_key, value, header_names, header_values
    FROM dead_letters WHERE id = $1 FOR UPDATE SKIP LOCKED
"""
DELETE = "DELETE FROM dead_letters WHERE id = $1"


def default_dead_letter_topic(consumer: str) -> str:
    """Where a consumer's dead letters go unless told otherwise."""
    return f"{consumer}.dlq"


@dataclass(frozen=True)
class ConsumerTopics:
    """A consumer of a service, as its dead letters concern it: the group name, the topics it reads, the topics its
    dead letters go to."""

    name: str
    topics: Sequence[str]
    dead_letter_topics: Sequence[str]

    @classmethod
    def of(
        cls,
        name: str,
        topics: Sequence[str],
        dead_letter_topics: Mapping[str, str] | None = None,
        dead_letter_topic: str | None = None,
    ) -> ConsumerTopics:
        """As a ConsumerRunner given the same arguments sees them."""
        default = dead_letter_topic or default_dead_letter_topic(name)
        return cls(name, list(topics), sorted({default, *(dead_letter_topics or {}).values()}))


class NotFound(LookupError):
    """An unknown id, consumer or topic; the message names it (and what is known)."""


@dataclass(frozen=True)
class ParkedLetter:
    id: int
    consumer: str
    source_topic: str
    source_partition: int
    source_offset: int
    target_topic: str
    error: str
    refused_by_kafka: str
    parked_at: datetime

    @property
    def source(self) -> str:
        return f"{self.source_topic}/{self.source_partition}/{self.source_offset}"


@dataclass(frozen=True)
class Redriven:
    """A parked letter published again (at topic/partition/offset) and its row deleted."""

    id: int
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class PublishFailed:
    """Kafka did not acknowledge the copy of a parked letter: its row is kept."""

    id: int
    error: str
    # False: the refusal concerned this message or its topic only; the re-drive went on with the next ones.
    stopped: bool


@dataclass(frozen=True)
class Copied:
    """A message of a dead-letter topic copied back to where it came from (dry run: would be)."""

    offset: int
    topic: str
    partition: int
    event_id: str | None
    error: str


@dataclass(frozen=True)
class Skipped:
    """A message of a dead-letter topic left alone, and why (no or a foreign dlq.source)."""

    offset: int
    reason: str


@dataclass
class TopicRedriveStopped(Exception):
    """A publish failed: offsets before `offset` were copied; run again from `offset`."""

    topic: str
    partition: int
    offset: int
    error: str

    def __str__(self) -> str:
        return (f"stopped at {self.topic}/{self.partition} offset {self.offset}: {self.error}; "
                "run again once that is fixed: it resumes there")  # fmt: skip


async def parked(conn: asyncpg.Connection, consumer: str | None = None) -> list[ParkedLetter]:
    """The parked dead letters (of one consumer), oldest first."""
    return [ParkedLetter(**dict(row)) for row in await conn.fetch(LIST, consumer)]


async def known_consumers(conn: asyncpg.Connection, configured: Collection[str]) -> list[str]:
    """The service's consumers and any other consumer that has letters parked (one renamed since)."""
    return sorted({*configured, *(r["consumer"] for r in await conn.fetch(CONSUMERS))})


def _headers(names: Sequence[str], values: Sequence[bytes], origin: str) -> list[tuple[str, bytes]]:
    kept = [(n, v) for n, v in zip(names, values, strict=True) if not n.startswith(DLQ_HEADER_PREFIX)]
    return [*kept, (REDRIVEN_HEADER, origin.encode())]


async def redrive_parked(
    conn: asyncpg.Connection,
    producer: AIOKafkaProducer,
    *,
    letter_id: int | None = None,
    consumer: str | None = None,
    publish_timeout: float = 60.0,
) -> AsyncIterator[Redriven | PublishFailed]:
    """Re-drive one parked letter (letter_id) or all of one consumer's, oldest first, reporting each. Goes on after a
    refusal of one message or its topic (too large, not authorised), stops after any other failure (the broker down,
    a timeout), which would fail the rest too.
    NotFound: no letter has that id (a consumer with nothing parked yields nothing)."""
    if (letter_id is None) == (consumer is None):
        raise ValueError("give exactly one of letter_id and consumer")
    if letter_id is not None:
        if await conn.fetchval("SELECT 1 FROM dead_letters WHERE id = $1", letter_id) is None:
            raise NotFound(f"no parked dead letter has id {letter_id} (list them: dead-letters list)")
        ids = [letter_id]
    else:
        ids = [r["id"] for r in await conn.fetch(IDS, consumer)]
    for one in ids:
        outcome = await _redrive_one(conn, producer, one, publish_timeout)
        if outcome is not None:
            yield outcome
            if isinstance(outcome, PublishFailed) and outcome.stopped:
                return


async def _redrive_one(
    conn: asyncpg.Connection, producer: AIOKafkaProducer, letter_id: int, publish_timeout: float
) -> Redriven | PublishFailed | None:
    """Publish the row's message and delete the row, in the transaction that locked it; None: another re-drive holds
    it, or took it already."""
    try:
        async with conn.transaction():
            row = await conn.fetchrow(LOCK, letter_id)
            if row is None:
                return None
            headers = _headers(row["header_names"], row["header_values"], f"dead_letters/{letter_id}")
            async with asyncio.timeout(publish_timeout):
                sent = await producer.send_and_wait(row["source_topic"], row["value"], key=row["message_key"],
                                                    partition=row["source_partition"], headers=headers)  # fmt: skip
            await conn.execute(DELETE, letter_id)
    except (KafkaError, TimeoutError) as exc:
        return PublishFailed(letter_id, _describe(exc), stopped=not isinstance(exc, REFUSED_THIS_MESSAGE))
    return Redriven(letter_id, sent.topic, sent.partition, sent.offset)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "TimeoutError: Kafka did not acknowledge the publish in time"
    return f"{type(exc).__name__}: {exc}"[:300]


def _source(headers: Sequence[tuple[str, bytes]]) -> tuple[str, int] | None:
    """The topic and partition a dead letter came from (its dlq.source header: topic/partition/offset)."""
    raw = dict(headers).get("dlq.source")
    if raw is None:
        return None
    topic, _, rest = raw.decode(errors="replace").rpartition("/")
    topic, _, partition = topic.rpartition("/")
    if not topic or not partition.isdigit() or not rest.isdigit():
        return None
    return topic, int(partition)


async def partitions_of(admin: AIOKafkaAdminClient, topic: str) -> list[int]:
    """The topic's partitions; NotFound when there is no such topic."""
    (described,) = await admin.describe_topics([topic])
    partitions = sorted(p["partition"] for p in described.get("partitions", ()))
    if not partitions:
        raise NotFound(f"there is no topic {topic}")
    return partitions


def drain_group(topic: str) -> str:
    """The consumer group that remembers how far a dead-letter topic was re-driven (it never consumes by itself;
    `<consumer>.dlq-drain`, inside the consumer's own group prefix)."""
    return f"{topic}-drain"


async def redrive_topic(
    consumer: AIOKafkaConsumer,
    producer: AIOKafkaProducer | None,
    topic: str,
    partition: int,
    from_offset: int | None,
    *,
    sources: Collection[str],
    end_offset: int | None = None,
    publish_timeout: float = 60.0,
) -> AsyncIterator[Copied | Skipped]:
    """Copy the messages of a dead-letter topic's partition, from from_offset up to end_offset (default: its end
    now), back to the topic and partition each came from, if that is one of `sources` (the topics the consumer
    reads). `consumer` is a started consumer of the drain group (drain_group): after each message copied (or
    skipped) its next offset is committed there, and from_offset None starts where the last re-drive stopped.
    producer None: a dry run, reporting what would be copied, committing nothing (from the start of the partition
    when nothing was re-driven yet). The partition must exist (partitions_of). Raises TopicRedriveStopped when a
    publish (or saving the position) failed, NotFound when from_offset is None and there is no position yet."""
    tp = TopicPartition(topic, partition)
    consumer.assign([tp])
    first = (await consumer.beginning_offsets([tp]))[tp]
    end = (await consumer.end_offsets([tp]))[tp]
    end = end if end_offset is None else min(end, end_offset)
    if from_offset is None:
        from_offset = await consumer.committed(tp)
        if from_offset is None and producer is not None:
            raise NotFound(f"{topic}/{partition} was never re-driven (no position in the group {drain_group(topic)}): "
                           f"give --from-offset (the oldest kept is {first})")  # fmt: skip
    start = max(from_offset or 0, first)  # older ones are past the topic's retention
    if start >= end:
        return
    consumer.seek(tp, start)
    while True:
        batches = await consumer.getmany(tp, timeout_ms=1000, max_records=100)
        for record in batches.get(tp, ()):
            if record.offset >= end:
                return
            outcome = await _copy(producer, record, sources, publish_timeout)
            if producer is not None:
                await _remember(consumer, tp, record.offset + 1)
            yield outcome
            if record.offset + 1 >= end:
                return
        if not batches and await consumer.position(tp) >= end:
            return


async def _copy(
    producer: AIOKafkaProducer | None, record: ConsumerRecord[Any, Any], sources: Collection[str], seconds: float
) -> Copied | Skipped:
    headers = [(k, bytes(v)) for k, v in record.headers or ()]
    source = _source(headers)
    if source is None or source[0] not in sources:
        return Skipped(record.offset, "no dlq.source header" if source is None else
                       f"came from {source[0]}, not read by this consumer")  # fmt: skip
    named = dict(headers)
    event_id = named.get("event_id")
    if producer is not None:
        kept = _headers([k for k, _ in headers], [v for _, v in headers], f"{record.topic}/{record.partition}/"
                        f"{record.offset}")  # fmt: skip
        try:
            async with asyncio.timeout(seconds):
                await producer.send_and_wait(source[0], record.value, key=record.key, partition=source[1],
                                             headers=kept)  # fmt: skip
        except (KafkaError, TimeoutError) as exc:
            raise TopicRedriveStopped(record.topic, record.partition, record.offset, _describe(exc)) from exc
    return Copied(record.offset, source[0], source[1], event_id.decode() if event_id else None,
                  named.get("dlq.error", b"").decode(errors="replace"))  # fmt: skip


async def _remember(consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> None:
    try:
        await consumer.commit({tp: offset})
    except KafkaError as exc:
        why = f"copied up to it, but the position was not saved ({_describe(exc)})"
        raise TopicRedriveStopped(tp.topic, tp.partition, offset, why) from exc
