"""`python -m cases worker` as deployed: it publishes the outbox, and SIGTERM stops it cleanly (exit 0)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
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
async def topics(module_topics: TopicMaker) -> tuple[str, str]:
    suffix = uuid.uuid4().hex[:8]
    return await module_topics(f"cases.events.test.{suffix}"), await module_topics(f"identity.events.test.{suffix}")


@pytest.fixture(scope="module")
def settings(database: str, topics: tuple[str, str], kafka_bootstrap: str) -> Settings:
    events, identity = topics
    return Settings(environment="test", database_url=database, events_topic=events, identity_topic=identity,
                    kafka_bootstrap_servers=kafka_bootstrap, run_workers=False)  # fmt: skip


async def _first_event_of(settings: Settings, case_id: str) -> str:
    consumer = AIOKafkaConsumer(settings.events_topic, bootstrap_servers=settings.kafka_bootstrap_servers,
                                auto_offset_reset="earliest", group_id=f"t-{uuid.uuid4().hex[:6]}")  # fmt: skip
    await consumer.start()
    try:
        async with asyncio.timeout(60):
            while True:
                for records in (await consumer.getmany(timeout_ms=1000)).values():
                    for record in records:
                        assert record.value is not None
                        envelope = decode(record.value)
                        if envelope.stream_id == case_id:
                            return envelope.event_type
    finally:
        await consumer.stop()


async def test_the_worker_command_publishes_the_outbox_and_stops_on_sigterm(
    user: UserFactory, settings: Settings
) -> None:
    case = await user().open()
    env = {**os.environ, "CASES_ENVIRONMENT": "test", "CASES_DATABASE_URL": settings.database_url,
           "CASES_EVENTS_TOPIC": settings.events_topic, "CASES_IDENTITY_TOPIC": settings.identity_topic,
           "CASES_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
           "CASES_CONSUMER_NAME": f"cases-{uuid.uuid4().hex[:6]}"}  # fmt: skip
    worker = await asyncio.create_subprocess_exec(sys.executable, "-m", "cases", "worker", env=env,
                                                  stdout=asyncio.subprocess.DEVNULL,
                                                  stderr=asyncio.subprocess.PIPE)  # fmt: skip
    try:
        assert await _first_event_of(settings, case["id"]) == "CaseOpened"
    finally:
        if worker.returncode is None:
            worker.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            _, stderr = await worker.communicate()

    assert worker.returncode == 0, stderr.decode()[-2000:]
