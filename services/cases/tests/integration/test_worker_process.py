"""`python -m cases worker` as deployed: it publishes the outbox, and SIGTERM stops it cleanly (exit 0)."""

from __future__ import annotations

import asyncio
import signal
import sys
import uuid
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaConsumer
from cases_builders import User, worker_env

from casefold_events.envelope import decode
from cases.config import Settings

pytestmark = pytest.mark.integration

UserFactory = Callable[..., User]


@pytest.fixture(scope="module")
def settings(database: str, worker_topics: tuple[str, str], kafka_bootstrap: str) -> Settings:
    events, identity = worker_topics
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
    worker = await asyncio.create_subprocess_exec(sys.executable, "-m", "cases", "worker", env=worker_env(settings),
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
