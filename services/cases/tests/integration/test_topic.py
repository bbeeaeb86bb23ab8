"""Events reach cases.events.v1 through the outbox: keyed by case id, with headers, each case's events in order."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Callable

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer
from cases_builders import TopicMaker, User

from casefold_events.envelope import decode
from cases.config import Settings

pytestmark = pytest.mark.integration

UserFactory = Callable[..., User]


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def topic(module_topics: TopicMaker) -> str:
    name: str = await module_topics(f"cases.events.test.{uuid.uuid4().hex[:8]}", 3)
    return name


@pytest.fixture(scope="module")
def settings(database: str, topic: str, kafka_bootstrap: str) -> Settings:
    return Settings(
        environment="test", database_url=database, events_topic=topic, kafka_bootstrap_servers=kafka_bootstrap,
        run_workers=True,
    )  # fmt: skip


async def test_each_cases_events_arrive_in_order_keyed_by_case_id(
    user: UserFactory, settings: Settings, kafka_bootstrap: str
) -> None:
    agent = user(role="agent")
    expected: dict[str, list[str]] = {}

    async def life(i: int) -> None:
        owner = user()
        case = await owner.open(subject=f"ordered {i}")
        for n in range(3):
            await (owner if n % 2 else agent).comment(case["id"], f"c{n}")
        await owner.close(case["id"])
        expected[case["id"]] = ["CaseOpened", "CommentAdded", "CommentAdded", "CommentAdded", "CaseClosed"]

    await asyncio.gather(*(life(i) for i in range(6)))

    received: dict[str, list[tuple[int, str]]] = defaultdict(list)
    consumer = AIOKafkaConsumer(settings.events_topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest",
                                group_id=f"t-{uuid.uuid4().hex[:6]}", **settings.kafka_options())  # fmt: skip
    await consumer.start()
    try:
        async with asyncio.timeout(30):
            while sum(len(v) for v in received.values()) < 30:
                batch = await consumer.getmany(timeout_ms=1000)
                for records in batch.values():
                    for record in records:
                        assert record.value is not None
                        envelope = decode(record.value)
                        headers = {k: v.decode() for k, v in record.headers}
                        assert record.key == envelope.stream_id.encode()
                        assert headers["event_type"] == envelope.event_type
                        assert headers["event_id"] == str(envelope.event_id)
                        received[envelope.stream_id].append((envelope.stream_version, envelope.event_type))
    finally:
        await consumer.stop()

    for case_id, types in expected.items():
        assert [v for v, _ in received[case_id]] == [1, 2, 3, 4, 5]
        assert [t for _, t in received[case_id]] == types
