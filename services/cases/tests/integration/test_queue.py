"""The agents' queue on the real database: every filter, both orders with their cursors, SLA filters against an
injected clock, and the keyword search over subject, description and comments."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from cases_builders import User, enrol
from fastapi import FastAPI

from cases.adapters import queue

pytestmark = pytest.mark.integration

UserFactory = Callable[..., User]
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@dataclass
class FixedClock:
    at: datetime = NOW

    def now(self) -> datetime:
        return self.at


@pytest.fixture(autouse=True)
def clock(app: FastAPI) -> FixedClock:
    fixed = FixedClock()
    app.state.queries = replace(app.state.queries, clock=fixed)
    return fixed


def _tag() -> str:
    return "tag" + uuid.uuid4().hex[:10]


async def _queue(agent: User, **params: Any) -> dict[str, Any]:
    response = await agent.get("/api/cases/queue", params=params)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def _ids(agent: User, **params: Any) -> list[str]:
    return [i["id"] for i in (await _queue(agent, limit=100, **params))["items"]]


async def _deadline(pool: asyncpg.Pool, case: dict[str, Any], at: datetime | None) -> None:
    # What the SLA projection writes; the queue only reads it.
    await pool.execute("UPDATE case_summaries SET next_deadline_at = $2 WHERE id = $1", uuid.UUID(case["id"]), at)


async def _open(owner: User, tag: str, **overrides: Any) -> dict[str, Any]:
    opened: dict[str, Any] = await owner.open(description=f"Something about {tag}", **overrides)
    return opened


async def test_urgency_puts_prioritised_first_then_deadline_then_severity_then_age(
    user: UserFactory, pool: asyncpg.Pool
) -> None:
    agent, owner, tag = await enrol(pool, user(role="agent")), user(), _tag()
    late_minor = await _open(owner, tag, severity=3)
    soon_minor = await _open(owner, tag, severity=3)
    no_deadline_critical = await _open(owner, tag, severity=1)
    no_deadline_major = await _open(owner, tag, severity=2)
    down = await _open(owner, tag, subject="Production Down", severity=2)
    later_major = await _open(owner, tag, severity=2)
    await _deadline(pool, late_minor, NOW + timedelta(hours=8))
    await _deadline(pool, soon_minor, NOW + timedelta(hours=1))
    await _deadline(pool, down, NOW + timedelta(hours=20))
    await _deadline(pool, later_major, None)

    expected = [down, soon_minor, late_minor, no_deadline_critical, no_deadline_major, later_major]
    assert await _ids(agent, q=tag) == [c["id"] for c in expected]
    paged: list[str] = []
    cursor = None
    while True:
        page = await _queue(agent, q=tag, limit=2, **({"cursor": cursor} if cursor else {}))
        paged += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == [c["id"] for c in expected]


async def test_last_activity_order_pages_newest_first(user: UserFactory, pool: asyncpg.Pool) -> None:
    agent, owner, tag = await enrol(pool, user(role="agent")), user(), _tag()
    cases = [await _open(owner, tag) for _ in range(5)]
    await owner.comment(cases[1]["id"], "bump")

    first = await _queue(agent, q=tag, sort="last_activity", limit=3)
    second = await _queue(agent, q=tag, sort="last_activity", limit=3, cursor=first["next_cursor"])

    order = [cases[1], cases[4], cases[3], cases[2], cases[0]]
    assert [i["id"] for i in first["items"] + second["items"]] == [c["id"] for c in order]
    assert second["next_cursor"] is None


async def test_status_filters_split_the_waiting_states(user: UserFactory, pool: asyncpg.Pool) -> None:
    agent, owner, tag = await enrol(pool, user(role="agent")), user(), _tag()
    on_support, on_customer, closed = await _open(owner, tag), await _open(owner, tag), await _open(owner, tag)
    await agent.post(f"/api/cases/{on_customer['id']}/waiting", json={"waiting_on": "customer"})
    await owner.close(closed["id"])

    assert await _ids(agent, q=tag, status="waiting_on_support") == [on_support["id"]]
    assert await _ids(agent, q=tag, status="waiting_on_customer") == [on_customer["id"]]
    assert await _ids(agent, q=tag, status="closed") == [closed["id"]]
    assert set(await _ids(agent, q=tag)) == {on_support["id"], on_customer["id"]}
    assert set(await _ids(agent, q=tag, status="all")) == {on_support["id"], on_customer["id"], closed["id"]}


async def test_assignee_filters_me_unassigned_anyone_and_a_named_agent(user: UserFactory, pool: asyncpg.Pool) -> None:
    ada, bob = await enrol(pool, user(role="agent"), name="Ada"), await enrol(pool, user(role="agent"), name="Bob")
    owner, tag = await enrol(pool, user(), name="Olga Owner"), _tag()
    mine, bobs, nobodys = await _open(owner, tag), await _open(owner, tag), await _open(owner, tag)
    await ada.post(f"/api/cases/{mine['id']}/assignment", json={"assignee_id": str(ada.user_id)})
    await ada.post(f"/api/cases/{bobs['id']}/assignment", json={"assignee_id": str(bob.user_id)})

    assert await _ids(ada, q=tag, assignee="me") == [mine["id"]]
    assert await _ids(ada, q=tag, assignee="unassigned") == [nobodys["id"]]
    assert await _ids(ada, q=tag, assignee=str(bob.user_id)) == [bobs["id"]]
    assert set(await _ids(ada, q=tag, assignee="anyone")) == {mine["id"], bobs["id"], nobodys["id"]}
    [item] = (await _queue(ada, q=tag, assignee="me"))["items"]
    assert item["assignee"] == {"id": str(ada.user_id), "display_name": "Ada"}
    assert item["customer"] == {"id": str(owner.user_id), "display_name": "Olga Owner",
                                "email": f"{owner.user_id}@people.test"}  # fmt: skip
    assert item["waiting_on"] == "support"


async def test_prioritised_severity_and_product_filters(user: UserFactory, pool: asyncpg.Pool) -> None:
    agent, owner, tag = await enrol(pool, user(role="agent")), user(), _tag()
    down = await _open(owner, tag, subject="Production Down", severity=1)
    minor_server = await _open(owner, tag, severity=3, product="casefold-server")
    major = await _open(owner, tag, severity=2)

    assert await _ids(agent, q=tag, prioritised="true") == [down["id"]]
    assert set(await _ids(agent, q=tag, prioritised="false")) == {minor_server["id"], major["id"]}
    assert await _ids(agent, q=tag, severity=2) == [major["id"]]
    assert await _ids(agent, q=tag, product="casefold-server") == [minor_server["id"]]


async def test_sla_filters_compare_the_next_deadline_with_the_clock(
    user: UserFactory, pool: asyncpg.Pool, clock: FixedClock
) -> None:
    agent, owner, tag = await enrol(pool, user(role="agent")), user(), _tag()
    breached, in_two_hours, in_six_hours, none = [await _open(owner, tag) for _ in range(4)]
    await _deadline(pool, breached, NOW - timedelta(minutes=1))
    await _deadline(pool, in_two_hours, NOW + timedelta(hours=2))
    await _deadline(pool, in_six_hours, NOW + timedelta(hours=6))

    assert await _ids(agent, q=tag, sla="breached") == [breached["id"]]
    assert await _ids(agent, q=tag, sla="due_soon") == [in_two_hours["id"]]
    assert await _ids(agent, q=tag, sla="due_soon", due_within_hours=8) == [in_two_hours["id"], in_six_hours["id"]]
    items = {i["id"]: i for i in (await _queue(agent, q=tag))["items"]}
    assert [items[c["id"]]["breached"] for c in (breached, in_two_hours, none)] == [True, False, False]

    clock.at = NOW + timedelta(hours=3)

    assert await _ids(agent, q=tag, sla="breached") == [breached["id"], in_two_hours["id"]]
    assert none["id"] not in await _ids(agent, q=tag, sla="due_soon", due_within_hours=720)


@pytest.mark.parametrize(
    ("bitmap_max", "window"),
    [(10_000, 3000), (-1, 1000), (-1, 1)],
    ids=["gin-matches", "walks-the-order", "walk-falls-back"],
)
async def test_search_finds_words_in_subject_description_and_any_comment(
    user: UserFactory, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch, bitmap_max: int, window: int
) -> None:
    monkeypatch.setattr(queue, "BITMAP_MAX", bitmap_max)
    monkeypatch.setattr(queue, "WALK_WINDOW", window)
    agent, owner, tag = await enrol(pool, user(role="agent")), user(), _tag()
    in_subject = await owner.open(subject=f"{tag} exporter crashes", description="nothing more")
    in_description = await owner.open(description=f"The {tag} exporter crashed twice")
    in_comment = await owner.open(description="plain")
    in_internal = await owner.open(description="plain too")
    elsewhere = await owner.open(description="exporter crashed, other tag")
    split = await owner.open(description="the words apart")
    await owner.comment(in_comment["id"], f"Also the {tag} exporter crashing")
    await agent.comment(in_internal["id"], f"note: {tag} exporter crash", internal=True)
    await owner.comment(split["id"], f"first {tag}")
    await owner.comment(split["id"], "then a crash")

    found = await _ids(agent, q=f"{tag} crash", status="all")
    newest_first = await _ids(agent, q=f"{tag} crash", status="all", sort="last_activity")

    assert newest_first == [in_internal["id"], in_comment["id"], in_description["id"], in_subject["id"]]
    assert set(found) == {in_subject["id"], in_description["id"], in_comment["id"], in_internal["id"]}
    assert elsewhere["id"] not in found
    assert split["id"] not in found  # every word in one text, as before the per-case documents
    assert split["id"] in await _ids(agent, q=tag, status="all")
    assert await _ids(agent, q="the and of") == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"assignee": "someone"}, "query.assignee"),
        ({"status": "pending"}, "query.status"),
        ({"sort": "random"}, "query.sort"),
        ({"sla": "late"}, "query.sla"),
        ({"due_within_hours": 0}, "query.due_within_hours"),
        ({"due_within_hours": 721}, "query.due_within_hours"),
        ({"severity": 4}, "query.severity"),
        ({"limit": 101}, "query.limit"),
        ({"cursor": "bm9wZQ"}, "query.cursor"),
        ({"q": "a\x00b"}, "query.q"),
        ({"product": "no-such-product"}, "query.product"),
    ],
)
async def test_bad_queue_input_is_a_422_naming_the_parameter(
    user: UserFactory, pool: asyncpg.Pool, params: dict[str, Any], field: str
) -> None:
    agent = await enrol(pool, user(role="agent"))

    response = await agent.get("/api/cases/queue", params=params)

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


async def test_a_cursor_of_one_order_is_refused_by_the_other(user: UserFactory, pool: asyncpg.Pool) -> None:
    agent, owner, tag = await enrol(pool, user(role="agent")), user(), _tag()
    for _ in range(3):
        await _open(owner, tag)
    cursor = (await _queue(agent, q=tag, limit=1))["next_cursor"]

    response = await agent.get("/api/cases/queue", params={"q": tag, "sort": "last_activity", "cursor": cursor})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.cursor"


async def test_the_case_page_shows_the_sla_clocks_to_agents_only(
    user: UserFactory, pool: asyncpg.Pool, clock: FixedClock
) -> None:
    agent, owner = await enrol(pool, user(role="agent")), user()
    case = await owner.open()
    # The SLA projection sets the clocks at once (severity 2: 4 business hours, then 1 business day).
    projected = (await agent.get(f"/api/cases/{case['id']}")).json()["sla"]
    assert projected["first_response_due_at"] is not None
    await pool.execute(
        "UPDATE case_summaries SET first_response_due_at = $2, resolution_due_at = $3, "
        "resolution_remaining_seconds = 3600, next_deadline_at = $2 WHERE id = $1",
        uuid.UUID(case["id"]), NOW - timedelta(minutes=5), NOW + timedelta(hours=1),
    )  # fmt: skip

    sla = (await agent.get(f"/api/cases/{case['id']}")).json()["sla"]

    assert sla["first_response_breached"] is True
    assert sla["resolution_breached"] is False
    assert sla["resolution_remaining_seconds"] == 3600
    assert (await owner.get(f"/api/cases/{case['id']}")).json()["sla"] is None


async def test_the_urgency_index_is_led_by_status_live_and_after_a_rebuild(pool: asyncpg.Pool) -> None:
    from cases.adapters.rebuild import rebuild_read_model
    from cases.domain.sla import SlaPolicy

    names = "SELECT indexname FROM pg_indexes WHERE tablename = 'case_summaries' AND indexname LIKE '%urgency'"
    before = {r["indexname"] for r in await pool.fetch(names)}
    await rebuild_read_model(pool, SlaPolicy())

    assert {r["indexname"] for r in await pool.fetch(names)} == before
    assert "case_summaries_status_urgency" in before
    assert "case_summaries_open_urgency" not in before


@pytest.mark.parametrize("sla", ["breached", "due_soon"])
async def test_the_sla_filters_are_a_condition_of_the_urgency_index_even_in_a_generic_plan(
    pool: asyncpg.Pool, sla: str
) -> None:
    # asyncpg prepares every query and PostgreSQL moves to a generic plan after five runs; as a filter of the rows the
    # urgency index walks, "next_deadline_at < $now" read every open case when few were breached.
    filters = queue.QueueFilter(sla=sla)  # type: ignore[arg-type]
    where = queue.build_where(filters, uuid.uuid4(), NOW)
    page = f"SELECT id FROM case_summaries {where.sql} {queue.ORDERS['urgency']} LIMIT 21"
    async with pool.acquire() as conn, conn.transaction():
        # The test database is tiny: without these the planner reads the whole table, which says nothing.
        await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        await conn.execute("SET LOCAL enable_seqscan = off")
        await conn.execute("SET LOCAL enable_bitmapscan = off")
        await conn.execute("SET LOCAL enable_sort = off")
        plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN {page}", *where.args))

    assert "Index Cond: ((status = 'open'::text) AND (COALESCE(next_deadline_at" in plan, plan
    assert "Filter" not in plan, plan
