"""Events reach cases.events.v1 through the outbox: keyed by case id, with headers, each case's events in order."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Callable

import asyncpg
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer
from cases_builders import TopicMaker, User, enrol

from casefold_events.contracts import (
    CaseAssigned,
    CaseOpened,
    CommentAdded,
    SeverityChanged,
    WaitingStateChanged,
)
from casefold_events.envelope import Envelope, decode
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


async def test_the_agents_changes_are_published_with_who_made_them(
    user: UserFactory, pool: asyncpg.Pool, settings: Settings, kafka_bootstrap: str
) -> None:
    agent, owner = await enrol(pool, user(role="agent")), user()
    case = await owner.open(subject="Production Down", severity=2)
    path = f"/api/cases/{case['id']}"
    await agent.post(f"{path}/assignment", json={"assignee_id": str(agent.user_id)})
    await agent.post(f"{path}/waiting", json={"waiting_on": "customer"})
    await agent.post(f"{path}/severity", json={"severity": 1, "reason": "spreading", "prioritised": False})
    await owner.comment(case["id"], "still down")

    received: list[Envelope] = []
    consumer = AIOKafkaConsumer(settings.events_topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest",
                                group_id=f"t-{uuid.uuid4().hex[:6]}", **settings.kafka_options())  # fmt: skip
    await consumer.start()
    try:
        async with asyncio.timeout(30):
            while len(received) < 6:
                batch = await consumer.getmany(timeout_ms=1000)
                for records in batch.values():
                    received += [e for r in records if r.value and (e := decode(r.value)).stream_id == case["id"]]
    finally:
        await consumer.stop()

    events = [e.event() for e in sorted(received, key=lambda e: e.stream_version)]
    assert [type(e) for e in events] == [CaseOpened, CaseAssigned, WaitingStateChanged, SeverityChanged,
                                         CommentAdded, WaitingStateChanged]  # fmt: skip
    assigned, waiting, severity, back = events[1], events[2], events[3], events[5]
    assert isinstance(assigned, CaseAssigned)
    assert (assigned.assignee_id, assigned.previous_assignee_id) == (agent.user_id, None)
    assert assigned.assigned_by == agent.user_id
    assert isinstance(waiting, WaitingStateChanged)
    assert (waiting.waiting_on, waiting.changed_by_role) == ("customer", "agent")
    assert isinstance(severity, SeverityChanged)
    assert (severity.from_severity, severity.to_severity, severity.prioritised) == (2, 1, False)
    assert severity.reason == "spreading"
    assert isinstance(back, WaitingStateChanged)
    assert (back.waiting_on, back.changed_by, back.changed_by_role) == ("support", owner.user_id, "customer")
