"""Display names under the UTS #39 skeleton (key version 2) through the API: look-alikes in other scripts are taken,
and accounts that collide only under the new key keep their names while new claims are refused."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
from identity_builders import STRONG_PASSWORD, bearer, log_in, sign_up, unique_person

from identity.adapters import users
from identity.config import Settings
from identity.domain.display_names import DISPLAY_KEY_VERSION, display_name_key

pytestmark = pytest.mark.integration

LISU_CASEFOLD_SUPPORT = "ꓚꓮꓢꓰꓝꓳꓡꓓ ꓢꓴꓑꓑꓳꓣꓔ"
AVAILABILITY = "/api/identity/display-names/availability"


async def claim(client: httpx.AsyncClient, name: str) -> httpx.Response:
    body = {"email": unique_person()[0], "password": STRONG_PASSWORD, "display_name": name, "accept_terms": True}
    return await client.post("/api/identity/users", json=body)


async def test_lisu_letters_that_render_as_a_taken_name_are_taken(client: httpx.AsyncClient) -> None:
    free = await client.get(AVAILABILITY, params={"display_name": LISU_CASEFOLD_SUPPORT})
    assert free.json()["available"] is True  # one script: a valid name while nobody holds its skeleton
    assert (await claim(client, "Casefold Support")).status_code == 201
    answer = (await client.get(AVAILABILITY, params={"display_name": LISU_CASEFOLD_SUPPORT})).json()
    assert answer["available"] is False
    assert (await claim(client, LISU_CASEFOLD_SUPPORT)).status_code == 409


async def test_cyrillic_i_and_dotless_i_are_taken_like_latin_i(client: httpx.AsyncClient) -> None:
    tag = "".join(c for c in uuid.uuid4().hex if c.isalpha())[:4] or "abcd"
    await sign_up(client, name=f"Lisa {tag}")
    assert (await claim(client, f"L\u0131sa {tag}")).status_code == 409  # dotless ı: Latin, same skeleton
    mixed = await claim(client, f"L\u0456sa {tag}")  # Cyrillic і inside Latin: refused before any lookup
    assert mixed.status_code == 422
    assert "mix alphabets" in mixed.json()["errors"][0]["message"]


async def test_old_accounts_that_collide_under_the_new_key_keep_their_names_and_new_claims_are_refused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    tag = "".join(c for c in uuid.uuid4().hex if c.isalpha())[:4] or "abcd"
    first = await sign_up(client, name=f"Mick {tag}")
    second = await sign_up(client, name=f"Other {tag}")
    conn = await asyncpg.connect(settings.database_url)
    try:
        # As written before key version 2: "Rnick" and "Mick" had different keys then ("m" was not mapped to "rn").
        await conn.execute(
            "UPDATE users SET display_name = $2, display_key = $3, display_key_version = 1 WHERE id = $1",
            uuid.UUID(second["id"]), f"Rnick {tag}", f"rnlck{tag}-old",
        )  # fmt: skip
        pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=1)
        try:
            assert await users.refresh_display_keys(pool) >= 1
        finally:
            await pool.close()
        rows = await conn.fetch(
            "SELECT id::text, display_name, display_key, display_key_version FROM users WHERE id = ANY($1::uuid[])",
            [uuid.UUID(first["id"]), uuid.UUID(second["id"])],
        )
    finally:
        await conn.close()
    by_id = {r["id"]: r for r in rows}
    assert by_id[second["id"]]["display_name"] == f"Rnick {tag}"  # kept
    assert by_id[first["id"]]["display_key"] == by_id[second["id"]]["display_key"] == display_name_key(f"Mick {tag}")
    assert {r["display_key_version"] for r in rows} == {DISPLAY_KEY_VERSION}
    assert (await claim(client, f"Rnlck {tag}")).status_code == 409
    # The older holder still renames freely to a name of its own.
    pair = await log_in(client, first["email"])
    _, fresh = unique_person()
    renamed = await client.patch("/api/identity/me", json={"display_name": fresh}, headers=bearer(pair["access_token"]))
    assert renamed.status_code == 200
