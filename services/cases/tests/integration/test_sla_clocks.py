"""SLA clocks on the real database: deadlines in the case view, the SLA worker's warnings and breaches (once each,
also with two workers and after a restart), pauses while waiting on the customer, the rebuild, the queue's breach
filter, and the controllable clock moved by POST /internal/clock. No sleeps: the tests move the clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from cases_builders import User
from fastapi import FastAPI

from cases.adapters.rebuild import rebuild_read_model
from cases.adapters.sla_clock import ControllableClock
from cases.app.sla_worker import SlaWorker
from cases.config import DEV_INTERNAL_API_KEY, Settings
from cases.main import create_app

pytestmark = pytest.mark.integration

UserFactory = Callable[..., User]
KEY = {"X-Internal-Key": DEV_INTERNAL_API_KEY}
MINUTE = 60
SLA_COLUMNS = """
    SELECT id, first_response_due_at, first_responded_at, resolution_due_at, resolution_remaining_seconds,
           resolution_paused, next_deadline_at, sla_check_at
    FROM case_summaries ORDER BY id
"""


@pytest.fixture(scope="module")
def settings(database: str) -> Settings:
    return Settings(environment="test", database_url=database, run_workers=False, controllable_clock=True)


def worker(app: FastAPI) -> SlaWorker:
    """An SLA worker over the app's pool, repository and clock, as bootstrap builds it (rounds run by hand)."""
    commands = app.state.commands
    return SlaWorker(app.state.pool, commands.repository, commands.sla, app.state.clock)


async def advance(client: httpx.AsyncClient, seconds: int) -> datetime:
    response = await client.post("/internal/clock", json={"advance_seconds": seconds}, headers=KEY)
    assert response.status_code == 200, response.text
    return datetime.fromisoformat(response.json()["now"])


async def sla_events(pool: asyncpg.Pool, case_id: str) -> list[tuple[str, str]]:
    rows = await pool.fetch(
        "SELECT event_type, payload->>'clock' AS clock FROM events WHERE stream_id = $1 "
        "AND event_type IN ('SlaWarning', 'SlaBreached') ORDER BY stream_version",
        case_id,
    )
    return [(r["event_type"], r["clock"]) for r in rows]


async def sla_of(agent: User, case_id: str) -> dict[str, Any]:
    response = await agent.get(f"/api/cases/{case_id}")
    assert response.status_code == 200, response.text
    sla: dict[str, Any] = response.json()["sla"]
    return sla


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_a_critical_case_is_warned_at_80_percent_then_breached_once_each(
    user: UserFactory, client: httpx.AsyncClient, app: FastAPI, pool: asyncpg.Pool
) -> None:
    agent = user(role="agent")
    case = await user().open(severity=1)
    opened = at(case["opened_at"])
    sla = await sla_of(agent, case["id"])
    assert at(sla["first_response_due_at"]) == opened + timedelta(hours=1)
    assert at(sla["resolution_due_at"]) == opened + timedelta(hours=4)
    assert sla["first_response_breached"] is False
    sla_worker = worker(app)

    now = await advance(client, 0)
    await advance(client, int((opened + timedelta(minutes=47) - now).total_seconds()))
    await sla_worker.round()
    assert await sla_events(pool, case["id"]) == []

    await advance(client, 2 * MINUTE)
    await sla_worker.round()
    await sla_worker.round()
    assert await sla_events(pool, case["id"]) == [("SlaWarning", "first_response")]

    await advance(client, 12 * MINUTE)
    await sla_worker.round()
    await worker(app).round()  # a restarted worker finds nothing left to do
    assert await sla_events(pool, case["id"]) == [("SlaWarning", "first_response"), ("SlaBreached", "first_response")]
    assert (await sla_of(agent, case["id"]))["first_response_breached"] is True

    queue = await agent.get("/api/cases/queue", params={"sla": "breached"})
    assert queue.status_code == 200, queue.text
    assert case["id"] in [item["id"] for item in queue.json()["items"]]
    # Published like every event: the outbox holds them for the relay.
    published = await pool.fetchval(
        "SELECT count(*) FROM outbox WHERE stream_id = $1 AND last_version >= 2", case["id"]
    )
    assert published == 2


async def test_two_workers_racing_append_one_warning(
    user: UserFactory, client: httpx.AsyncClient, app: FastAPI, pool: asyncpg.Pool
) -> None:
    case = await user().open(severity=1)
    now = await advance(client, 0)
    await advance(client, int((at(case["opened_at"]) + timedelta(minutes=50) - now).total_seconds()))

    await asyncio.gather(*(worker(app).round() for _ in range(3)))

    assert await sla_events(pool, case["id"]) == [("SlaWarning", "first_response")]


async def test_a_public_agent_reply_stops_the_first_response_clock(
    user: UserFactory, client: httpx.AsyncClient, app: FastAPI, pool: asyncpg.Pool
) -> None:
    agent = user(role="agent")
    case = await user().open(severity=1)
    assert (await agent.comment(case["id"], "internal note", internal=True)).status_code == 201
    reply = await agent.comment(case["id"], "We are on it")
    assert reply.status_code == 201

    sla = await sla_of(agent, case["id"])
    assert at(sla["first_responded_at"]) == at(reply.json()["created_at"])
    await advance(client, 2 * 3600)
    await worker(app).round()

    assert ("SlaBreached", "first_response") not in await sla_events(pool, case["id"])
    assert (await sla_of(agent, case["id"]))["first_response_breached"] is False


async def test_waiting_on_the_customer_pauses_resolution_until_the_customer_answers(
    user: UserFactory, client: httpx.AsyncClient, app: FastAPI, pool: asyncpg.Pool
) -> None:
    agent, owner = user(role="agent"), user()
    case = await owner.open(severity=1)
    await agent.comment(case["id"], "Please send the logs")
    marked = await agent.post(f"/api/cases/{case['id']}/waiting", json={"waiting_on": "customer"})
    assert marked.status_code == 200, marked.text
    paused = marked.json()["sla"]
    assert paused["resolution_paused"] is True
    assert paused["resolution_due_at"] is None
    left = paused["resolution_remaining_seconds"]
    assert 0 < left <= 4 * 3600

    await advance(client, 10 * 3600)
    await worker(app).round()
    assert await sla_events(pool, case["id"]) == []
    assert (await sla_of(agent, case["id"]))["resolution_remaining_seconds"] == left

    answered = await owner.comment(case["id"], "Here they are")
    assert answered.status_code == 201
    resumed = await sla_of(agent, case["id"])
    assert resumed["resolution_paused"] is False
    expected = at(answered.json()["created_at"]) + timedelta(seconds=left)
    assert abs(at(resumed["resolution_due_at"]) - expected) < timedelta(seconds=1)


async def test_raising_severity_late_is_a_breach_at_once_and_only_the_breach_is_signalled(
    user: UserFactory, client: httpx.AsyncClient, app: FastAPI, pool: asyncpg.Pool
) -> None:
    agent = user(role="agent")
    case = await user().open(severity=3)
    now = await advance(client, 0)
    await advance(client, int((at(case["opened_at"]) + timedelta(hours=2) - now).total_seconds()))

    raised = await agent.post(f"/api/cases/{case['id']}/severity", json={"severity": 1, "reason": "Outage"})
    assert raised.status_code == 200, raised.text
    sla = raised.json()["sla"]
    assert at(sla["first_response_due_at"]) == at(case["opened_at"]) + timedelta(hours=1)
    assert sla["first_response_breached"] is True
    await worker(app).round()

    assert await sla_events(pool, case["id"]) == [("SlaBreached", "first_response")]


async def test_a_first_reply_late_while_the_worker_was_down_is_still_recorded_as_a_breach_once(
    user: UserFactory, client: httpx.AsyncClient, app: FastAPI, pool: asyncpg.Pool
) -> None:
    agent = user(role="agent")
    case = await user().open(severity=1)
    deadline = at(case["opened_at"]) + timedelta(hours=1)
    # No worker round runs past the warning and the deadline, nor when the late reply comes.
    now = await advance(client, 0)
    await advance(client, int((deadline + timedelta(minutes=30) - now).total_seconds()))
    assert (await agent.comment(case["id"], "Sorry for the wait")).status_code == 201

    await worker(app).round()
    await worker(app).round()

    # The breach only (the warning, after it, would be noise), dated by the deadline it missed.
    assert await sla_events(pool, case["id"]) == [("SlaBreached", "first_response")]
    due_at = await pool.fetchval(
        "SELECT payload->>'due_at' FROM events WHERE stream_id = $1 AND event_type = 'SlaBreached'", case["id"]
    )
    assert at(due_at) == deadline
    assert (await sla_of(agent, case["id"]))["first_response_breached"] is True


async def test_a_minor_cases_resolution_countdown_is_wall_clock_time_to_the_deadline_over_a_weekend(
    user: UserFactory, client: httpx.AsyncClient, app: FastAPI
) -> None:
    agent = user(role="agent")
    calendar = app.state.commands.sla.business
    now = await advance(client, 0)
    local = now.astimezone(calendar.zone)
    friday = datetime.combine(local.date() + timedelta(days=(4 - local.weekday()) % 7 or 7), time(16), calendar.zone)
    await advance(client, int((friday - now).total_seconds()) + 1)
    case = await user().open(severity=3)
    # Five business days of 09:00-17:00: Friday 16:00 to Friday 16:00 a week later.
    due = calendar.add(at(case["opened_at"]), timedelta(hours=40))
    assert due.astimezone(calendar.zone).weekday() == 4

    for step in (0, 20 * 3600, 40 * 3600):  # Friday, Saturday noon, Monday 04:00: the business time left is the same
        now = await advance(client, step)
        sla = await sla_of(agent, case["id"])
        assert at(sla["resolution_due_at"]) == due
        # What a countdown to the deadline shown reads: wall-clock seconds, nights and weekends included.
        assert abs(sla["resolution_remaining_seconds"] - (due - now).total_seconds()) <= 2


async def test_customers_never_see_the_sla(user: UserFactory) -> None:
    owner = user()
    case = await owner.open(severity=1)

    assert (await owner.get(f"/api/cases/{case['id']}")).json()["sla"] is None


async def test_a_rebuild_gives_the_same_deadlines(pool: asyncpg.Pool, app: FastAPI) -> None:
    before = [dict(r) for r in await pool.fetch(SLA_COLUMNS)]
    assert any(r["first_response_due_at"] is not None for r in before)

    await rebuild_read_model(pool, app.state.commands.sla)

    assert [dict(r) for r in await pool.fetch(SLA_COLUMNS)] == before


async def test_the_clock_route_wants_the_internal_key_and_moves_forward_only(client: httpx.AsyncClient) -> None:
    assert (await client.post("/internal/clock", json={"advance_seconds": 1})).status_code == 401
    wrong = {"X-Internal-Key": "nope"}
    assert (await client.post("/internal/clock", json={"advance_seconds": 1}, headers=wrong)).status_code == 401
    back = await client.post("/internal/clock", json={"advance_seconds": -1}, headers=KEY)
    assert back.status_code == 422
    assert "advance_seconds" in back.text


async def test_another_process_sees_the_moved_clock(client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    elsewhere = ControllableClock()
    await elsewhere.refresh(pool)
    before = elsewhere.offset

    await advance(client, 3600)
    await elsewhere.refresh(pool)

    assert elsewhere.offset == before + timedelta(hours=1)


async def test_without_the_controllable_clock_the_route_does_not_exist(database: str) -> None:
    off = create_app(Settings(environment="test", database_url=database, run_workers=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=off), base_url="http://cases.test") as http:
        response = await http.post("/internal/clock", json={"advance_seconds": 60}, headers=KEY)

    assert response.status_code == 404
