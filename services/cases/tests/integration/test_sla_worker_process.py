"""`python -m cases worker` as deployed, with the controllable clock: the API process moves the clock, the worker
process sees it through the database and publishes one SlaWarning, then one SlaBreached, on the topic."""

from __future__ import annotations

import asyncio
import signal
import sys
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from cases_builders import User, worker_env

from casefold_events.envelope import Envelope, decode
from cases.config import DEV_INTERNAL_API_KEY, Settings

pytestmark = pytest.mark.integration

UserFactory = Callable[..., User]


@pytest.fixture(scope="module")
def settings(database: str, worker_topics: tuple[str, str], kafka_bootstrap: str) -> Settings:
    events, identity = worker_topics
    return Settings(environment="test", database_url=database, events_topic=events, identity_topic=identity,
                    kafka_bootstrap_servers=kafka_bootstrap, run_workers=False, controllable_clock=True)  # fmt: skip


async def _advance(client: httpx.AsyncClient, seconds: int) -> datetime:
    response = await client.post("/internal/clock", json={"advance_seconds": seconds},
                                 headers={"X-Internal-Key": DEV_INTERNAL_API_KEY})  # fmt: skip
    assert response.status_code == 200, response.text
    return datetime.fromisoformat(response.json()["now"])


async def _next_sla_event(consumer: AIOKafkaConsumer, case_id: str) -> Envelope:
    async with asyncio.timeout(60):
        while True:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    assert record.value is not None
                    envelope = decode(record.value)
                    if envelope.stream_id == case_id and envelope.event_type.startswith("Sla"):
                        return envelope


async def test_the_worker_process_follows_the_moved_clock_and_signals_once_each(
    user: UserFactory, settings: Settings, client: httpx.AsyncClient
) -> None:
    case = await user().open(severity=1)
    opened = datetime.fromisoformat(case["opened_at"])
    env = worker_env(settings, CASES_CONTROLLABLE_CLOCK="true", CASES_SLA_POLL_SECONDS="0.2")
    consumer = AIOKafkaConsumer(settings.events_topic, bootstrap_servers=settings.kafka_bootstrap_servers,
                                auto_offset_reset="earliest", group_id=f"t-{uuid.uuid4().hex[:6]}")  # fmt: skip
    await consumer.start()
    worker = await asyncio.create_subprocess_exec(sys.executable, "-m", "cases", "worker", env=env,
                                                  stdout=asyncio.subprocess.DEVNULL,
                                                  stderr=asyncio.subprocess.PIPE)  # fmt: skip
    try:
        now = await _advance(client, 0)
        await _advance(client, int((opened + timedelta(minutes=50) - now).total_seconds()))
        warning = await _next_sla_event(consumer, case["id"])
        await _advance(client, 15 * 60)
        breach = await _next_sla_event(consumer, case["id"])
    finally:
        await consumer.stop()
        if worker.returncode is None:
            worker.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            _, stderr = await worker.communicate()

    assert worker.returncode == 0, stderr.decode()[-2000:]
    assert (warning.event_type, warning.payload["clock"]) == ("SlaWarning", "first_response")
    assert (breach.event_type, breach.payload["clock"]) == ("SlaBreached", "first_response")
    assert datetime.fromisoformat(breach.payload["due_at"]) == opened + timedelta(hours=1)
    assert warning.payload["assignee_id"] is None
