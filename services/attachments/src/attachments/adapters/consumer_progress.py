"""How far behind the case-events consumer group is, asked of Kafka (committed offsets against the log ends)."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

log = structlog.get_logger("attachments.consumer_progress")


class KafkaConsumerProgress:
    """The lag of `group` on `topic`, summed over its partitions; None whenever it cannot be known for sure."""

    def __init__(
        self, bootstrap_servers: str, group: str, topic: str, client_options: dict[str, Any], timeout: float = 30
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.group = group
        self.topic = topic
        self.client_options = client_options
        self.timeout = timeout

    async def lag(self) -> int | None:
        try:
            async with asyncio.timeout(self.timeout):
                return await self._lag()
        except Exception as exc:
            # Kafka down, the topic missing, a timeout: unknown, which the collector treats as behind.
            log.warning("consumer_lag_unknown", group=self.group, topic=self.topic, error=type(exc).__name__,
                        detail=str(exc)[:200])  # fmt: skip
            return None

    async def _partitions(self) -> list[TopicPartition]:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers, **self.client_options)
        await admin.start()
        try:
            (described,) = await admin.describe_topics([self.topic])
        finally:
            await admin.close()
        if described.get("error_code"):
            return []
        return [TopicPartition(self.topic, p["partition"]) for p in described.get("partitions", ())]

    async def _lag(self) -> int | None:
        tps = await self._partitions()
        if not tps:
            return None
        # Joins no group (nothing is subscribed): it only reads the group's committed offsets.
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers, group_id=self.group, enable_auto_commit=False,
            request_timeout_ms=int(self.timeout * 1000) // 2, **self.client_options,
        )  # fmt: skip
        await consumer.start()
        try:
            ends = await consumer.end_offsets(tps)
            starts = await consumer.beginning_offsets(tps)
            total = 0
            for tp in tps:
                committed = await consumer.committed(tp)
                # Nothing committed yet: the consumer (auto_offset_reset earliest) starts at the log's start.
                position = committed if committed is not None else starts[tp]
                total += max(0, ends[tp] - position)
            return total
        finally:
            await consumer.stop()
