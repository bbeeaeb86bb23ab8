"""Tail a topic for support tooling: decoded events as JSON lines on stdout.

    uv run python -m casefold_events.tail cases.events.v1 --from beginning
    uv run python -m casefold_events.tail identity.events.v1 --from now --bootstrap 127.0.0.1:59092

Reads without a consumer group (nothing is committed, nobody else's offsets move). Each line is the envelope with
the payload upcast to the current contract, plus the Kafka coordinates; undecodable messages are printed as
{"error": ...} lines instead of stopping the tail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from typing import Any, TextIO

from aiokafka import AIOKafkaConsumer, ConsumerRecord

from casefold_events.contracts.base import UnknownEventTypeError
from casefold_events.envelope import DecodeError, decode, to_json


def render(record: ConsumerRecord[bytes, bytes]) -> dict[str, Any]:
    """One output line for one message."""
    where = {"topic": record.topic, "partition": record.partition, "offset": record.offset}
    try:
        envelope = decode(record.value or b"")
        line = to_json(envelope)
        line["payload"] = envelope.event().model_dump(mode="json")
    except (DecodeError, UnknownEventTypeError, ValueError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"[:500], "kafka": where}
    line["kafka"] = where
    return line


async def records(
    bootstrap: str, topic: str, from_beginning: bool, limit: int | None
) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest" if from_beginning else "latest",
    )
    await consumer.start()
    try:
        count = 0
        async for record in consumer:
            yield record
            count += 1
            if limit is not None and count >= limit:
                return
    finally:
        await consumer.stop()


async def run(bootstrap: str, topic: str, from_beginning: bool, limit: int | None, out: TextIO) -> None:
    async for record in records(bootstrap, topic, from_beginning, limit):
        out.write(json.dumps(render(record), sort_keys=True) + "\n")
        out.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m casefold_events.tail", description=__doc__.split("\n\n")[0])
    parser.add_argument("topic", help="e.g. cases.events.v1 or identity.events.v1")
    parser.add_argument("--from", dest="start", choices=["beginning", "now"], default="now")
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:59092"))
    parser.add_argument("--limit", type=int, default=None, help="stop after this many messages")
    args = parser.parse_args(argv)
    try:
        asyncio.run(run(args.bootstrap, args.topic, args.start == "beginning", args.limit, sys.stdout))
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
