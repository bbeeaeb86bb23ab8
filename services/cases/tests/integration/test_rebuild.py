"""Rebuilding the read model from the event store gives the same read model, also while commands keep coming."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from cases_builders import User, enrol, receipt

from cases.__main__ import main as cli
from cases.adapters.rebuild import rebuild_read_model
from cases.config import Settings
from cases.domain.sla import SlaPolicy

pytestmark = pytest.mark.integration

UserFactory = Callable[..., User]

DUMPS = {
    "case_summaries": "SELECT * FROM case_summaries ORDER BY id",
    "case_comments": "SELECT * FROM case_comments ORDER BY case_id, seq",
    "case_attachments": "SELECT * FROM case_attachments ORDER BY case_id, attachment_id",
    "case_search": "SELECT * FROM case_search ORDER BY id",
}


async def _dump(pool: asyncpg.Pool) -> dict[str, list[dict[str, Any]]]:
    return {table: [dict(r) for r in await pool.fetch(sql)] for table, sql in DUMPS.items()}


async def _some_history(user: UserFactory, cases: int = 6) -> None:
    agent = user(role="agent")
    for i in range(cases):
        owner = user()
        case = await owner.open(subject=f"Case {i} Production Down" if i % 3 == 0 else f"Case {i}",
                                attachments=[receipt(owner.user_id)] if i % 2 else [])  # fmt: skip
        await owner.comment(case["id"], "details")
        await agent.comment(case["id"], "internal note", internal=True)
        await owner.post(f"/api/cases/{case['id']}/attachments", json={"reference": receipt(owner.user_id)})
        if i % 2 == 0:
            await agent.close(case["id"])


async def test_rebuild_equals_the_read_model_before(user: UserFactory, pool: asyncpg.Pool) -> None:
    await _some_history(user)
    before = await _dump(pool)

    replayed = await rebuild_read_model(pool, SlaPolicy())

    assert replayed == await pool.fetchval("SELECT count(*) FROM events")
    assert await _dump(pool) == before
    assert len(before["case_summaries"]) >= 6


async def test_filling_the_search_documents_from_the_tables_gives_what_the_projection_wrote(
    user: UserFactory, pool: asyncpg.Pool
) -> None:
    await _some_history(user, cases=3)
    written = await _dump(pool)

    await pool.execute("TRUNCATE case_search")
    await pool.execute("SELECT cases_fill_case_search('')")  # what migration 0006 does with existing rows

    assert (await _dump(pool))["case_search"] == written["case_search"]
    assert len(written["case_search"]) == len(written["case_summaries"])


async def test_rebuild_from_an_emptied_read_model_restores_it(user: UserFactory, pool: asyncpg.Pool) -> None:
    await _some_history(user, cases=2)
    before = await _dump(pool)
    await pool.execute("TRUNCATE case_summaries, case_comments, case_attachments")

    await rebuild_read_model(pool, SlaPolicy())

    assert await _dump(pool) == before


async def test_rebuild_while_the_service_keeps_serving(user: UserFactory, pool: asyncpg.Pool) -> None:
    await _some_history(user, cases=20)
    alice = user()
    statuses: list[int] = []
    done = asyncio.Event()

    async def traffic() -> None:
        while not done.is_set():
            case = await alice.open(subject="during rebuild")
            statuses.append((await alice.comment(case["id"], "still here")).status_code)
            statuses.append((await alice.get(f"/api/cases/{case['id']}")).status_code)
            statuses.append((await alice.get("/api/cases", params={"q": "rebuild"})).status_code)

    worker = asyncio.create_task(traffic())
    await asyncio.sleep(0.05)
    await rebuild_read_model(pool, SlaPolicy())
    done.set()
    await worker
    served = await _dump(pool)

    await rebuild_read_model(pool, SlaPolicy())

    assert statuses
    assert set(statuses) == {200, 201}
    assert await _dump(pool) == served


async def test_rebuild_command_line(
    user: UserFactory, pool: asyncpg.Pool, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _some_history(user, cases=1)
    before = await _dump(pool)
    monkeypatch.setenv("CASES_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CASES_ENVIRONMENT", "test")

    assert await asyncio.to_thread(cli, ["rebuild-read-model"]) == 0

    assert await _dump(pool) == before


async def test_rebuild_gives_the_same_waiting_states_assignees_and_severity_history(
    user: UserFactory, pool: asyncpg.Pool
) -> None:
    agent = await enrol(pool, user(role="agent"))
    for i in range(4):
        owner = user()
        case = await owner.open(subject="Production Down" if i % 2 else f"Slow {i}", severity=3)
        path = f"/api/cases/{case['id']}"
        await agent.post(f"{path}/assignment", json={"assignee_id": str(agent.user_id)})
        await agent.post(f"{path}/waiting", json={"waiting_on": "customer"})
        await agent.post(f"{path}/severity", json={"severity": 2, "reason": f"reason {i}", "prioritised": False})
        if i % 2:
            await owner.comment(case["id"], "answered")
        if i == 3:
            await agent.close(case["id"])
    before = await _dump(pool)

    await rebuild_read_model(pool, SlaPolicy())

    assert await _dump(pool) == before
    rows = await pool.fetch("SELECT waiting_on, assignee_id, severity_changes FROM case_summaries WHERE assignee_id "
                            "IS NOT NULL")  # fmt: skip
    assert sorted(str(r["waiting_on"]) for r in rows) == ["None", "customer", "customer", "support"]
    assert all('"reason"' in r["severity_changes"] for r in rows)


async def test_commands_after_a_rebuild_write_to_the_new_search_documents(
    user: UserFactory, pool: asyncpg.Pool
) -> None:
    # The mirror's statements are planned once per session (migration 0009): the sessions that planned them before
    # the swap write to the swapped-in case_search after it, not to the dropped one.
    alice = user()
    for i in range(4):
        await alice.open(subject=f"warming the sessions {i}")
    await rebuild_read_model(pool, SlaPolicy())

    for i in range(4):
        case = await alice.open(subject=f"after the swap {i}")
        await alice.comment(case["id"], "still mirrored")
        await alice.close(case["id"])

    mirrored = await pool.fetch(
        "SELECT s.status, d.status AS search_status FROM case_summaries s LEFT JOIN case_search d USING (id) "
        "WHERE s.subject LIKE 'after the swap %'"
    )
    assert len(mirrored) == 4
    assert all(r["search_status"] == r["status"] == "closed" for r in mirrored)
