"""Create the system's Kafka topics up front (1 partition locally), so that consumers never race auto-creation."""

from __future__ import annotations

import asyncio
import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from casefold_local.errors import InfraError


async def ensure_topics(bootstrap: str, names: list[str], partitions: int = 1, within: float = 30) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(within * 1000))
    try:
        await asyncio.wait_for(admin.start(), within)
        existing = set(await admin.list_topics())
        missing = [NewTopic(n, num_partitions=partitions, replication_factor=1) for n in names if n not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
    except (KafkaError, TimeoutError, OSError) as exc:
        raise InfraError(f"kafka: creating topics on {bootstrap} failed: {type(exc).__name__}: {exc}") from exc
    finally:
        await admin.close()
