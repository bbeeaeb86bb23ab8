"""Idempotency keys: a repeat gets the first response; concurrent repeats do the work once."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from casefold_events.idempotency import (
    IdempotencyKeyReused,
    StoredResponse,
    claim,
    claim_with,
    complete,
    fingerprint,
)

pytestmark = pytest.mark.integration


async def _create(pool: asyncpg.Pool, key: str, body: dict[str, str], work: list[str]) -> StoredResponse:
    async with pool.acquire() as conn, conn.transaction():
        stored = await claim(conn, "user-1", key, fingerprint(body))
        if stored is not None:
            return stored
        await asyncio.sleep(0.05)  # the work: long enough for concurrent repeats to pile up behind the claim
        work.append(key)
        response = StoredResponse(201, {"id": str(uuid.uuid4()), **body})
        await complete(conn, "user-1", key, response.status, response.body)
        return response


async def test_repeats_return_the_first_response_and_do_the_work_once(pool: asyncpg.Pool) -> None:
    work: list[str] = []
    key = str(uuid.uuid4())

    results = await asyncio.gather(*(_create(pool, key, {"subject": "s"}, work) for _ in range(5)))

    assert work == [key]
    assert len({r.body["id"] for r in results}) == 1
    assert {r.status for r in results} == {201}


async def test_the_same_key_with_another_request_is_refused(pool: asyncpg.Pool) -> None:
    key = str(uuid.uuid4())
    await _create(pool, key, {"subject": "first"}, [])

    with pytest.raises(IdempotencyKeyReused):
        await _create(pool, key, {"subject": "second"}, [])


async def test_a_rolled_back_claim_frees_the_key(pool: asyncpg.Pool) -> None:
    key = str(uuid.uuid4())
    with pytest.raises(RuntimeError):
        async with pool.acquire() as conn, conn.transaction():
            await claim(conn, "user-1", key, fingerprint({}))
            raise RuntimeError("the command failed")

    work: list[str] = []
    await _create(pool, key, {}, work)
    assert work == [key]


async def test_a_claim_with_a_sequence_takes_a_number_for_a_new_key_only(pool: asyncpg.Pool) -> None:
    await pool.execute("CREATE SEQUENCE IF NOT EXISTS claim_with_probe_seq")
    key = str(uuid.uuid4())
    taken = []
    for _ in range(2):
        async with pool.acquire() as conn, conn.transaction():
            stored, values = await claim_with(conn, "user-1", key, fingerprint({}), ["nextval('claim_with_probe_seq')"])
            number = values[0] if values is not None else None
            taken.append(number)
            if stored is None:
                await complete(conn, "user-1", key, 201, {"number": number})

    assert taken[0] is not None
    assert taken[1] is None  # the repeat got the stored reply and consumed no number
    assert await pool.fetchval("SELECT last_value FROM claim_with_probe_seq") == taken[0]


async def test_a_claim_evaluates_several_expressions_with_their_own_parameters(pool: asyncpg.Pool) -> None:
    key = str(uuid.uuid4())
    async with pool.acquire() as conn, conn.transaction():
        stored, values = await claim_with(
            conn, "user-1", key, fingerprint({}), ["$4::int + 1", "upper($5::text)"], [41, "ok"]
        )
        assert stored is None
        assert values == (42, "OK")
        await complete(conn, "user-1", key, 201, {})
    async with pool.acquire() as conn, conn.transaction():
        stored, values = await claim_with(
            conn, "user-1", key, fingerprint({}), ["$4::int + 1", "upper($5::text)"], [41, "ok"]
        )
    assert stored is not None
    assert values is None
