"""Kafka helpers for tests that need more than a plain topic: a topic whose broker refuses records above a size (to
make a publish fail for good on a real broker)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

from aiokafka.admin import AIOKafkaAdminClient, NewTopic


@contextlib.asynccontextmanager
async def topic_taking_at_most(bootstrap: str, prefix: str, max_bytes: int) -> AsyncIterator[str]:
    """A fresh one-partition topic whose broker refuses any record batch larger than max_bytes; deleted after."""
    name = f"{prefix}.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1, topic_configs={"max.message.bytes": str(max_bytes)})])
        yield name
        await admin.delete_topics([name])
    finally:
        await admin.close()
