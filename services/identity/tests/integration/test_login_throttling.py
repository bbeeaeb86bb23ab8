"""Failed logins slow the guesser down (per account and address together, growing delays) and lock nobody out."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
import pytest_asyncio
from identity_builders import STRONG_PASSWORD, bearer, log_in, running_server, settings_for, sign_up

from identity.config import Settings

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def settings(database: str) -> Settings:
    return settings_for(database, trust_forwarded_for=True, login_free_failures=2, login_failures_per_address=1000)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def base_url(settings: Settings) -> AsyncIterator[str]:
    async with running_server(settings) as url:
        yield url


def at(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


async def attempt(client: httpx.AsyncClient, email: str, password: str, address: str) -> httpx.Response:
    return await client.post("/api/identity/sessions", json={"email": email, "password": password}, headers=at(address))


async def age_failures(settings: Settings, seconds: int) -> None:
    """As if the failures so far had happened `seconds` earlier (instead of sleeping through the delays)."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute("UPDATE rate_limit_hits SET at = at - make_interval(secs => $1)", float(seconds))
    finally:
        await conn.close()


async def fresh_failures(settings: Settings) -> None:
    """As if the failures so far had just happened: the first delays (1 s, 2 s) are about what one argon2 check takes
    on a loaded machine, so a test that needs them still running says so instead of hoping the machine is fast."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute("UPDATE rate_limit_hits SET at = now()")
    finally:
        await conn.close()


async def test_a_guesser_on_one_address_does_not_lock_the_owner_out_from_another(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    user = await sign_up(client)
    answers = []
    for i in range(10):
        answers.append((await attempt(client, user["email"], f"guess {i} !!!!!!!", "203.0.113.50")).status_code)
        await fresh_failures(settings)
    assert answers[:2] == [401, 401]
    assert 429 in answers[2:]
    owner = await attempt(client, user["email"], STRONG_PASSWORD, "198.51.100.20")
    assert owner.status_code == 200
    await fresh_failures(settings)
    still_slowed = await attempt(client, user["email"], STRONG_PASSWORD, "203.0.113.50")
    assert still_slowed.status_code == 429


async def test_each_failure_past_the_free_ones_doubles_the_wait(client: httpx.AsyncClient, settings: Settings) -> None:
    user = await sign_up(client)
    address = "203.0.113.60"
    for _ in range(2):
        assert (await attempt(client, user["email"], "wrong wrong wrong", address)).status_code == 401
    waits = []
    for _ in range(4):
        await fresh_failures(settings)
        slowed = await attempt(client, user["email"], "wrong wrong wrong", address)
        assert slowed.status_code == 429
        waits.append(int(slowed.headers["Retry-After"]))
        await age_failures(settings, waits[-1])
        assert (await attempt(client, user["email"], "wrong wrong wrong", address)).status_code == 401
    assert waits == [1, 2, 4, 8]
    await age_failures(settings, 16)
    assert (await attempt(client, user["email"], STRONG_PASSWORD, address)).status_code == 200
    # A success forgives that address: its next mistakes are free again.
    assert (await attempt(client, user["email"], "wrong wrong wrong", address)).status_code == 401


async def test_ipv6_clients_are_counted_by_their_64(database: str) -> None:
    limited = settings_for(database, trust_forwarded_for=True, login_failures_per_address=2)
    async with running_server(limited) as url, httpx.AsyncClient(base_url=url, timeout=10) as http:
        for host in ("2001:db8:7:7::1", "2001:db8:7:7::2"):
            assert (await attempt(http, f"v6.{host[-1]}@example.com", "p" * 12, host)).status_code == 401
        same_64 = await attempt(http, "v6.other@example.com", "p" * 12, "2001:db8:7:7:abcd::3")
        assert same_64.status_code == 429
        next_64 = await attempt(http, "v6.other@example.com", "p" * 12, "2001:db8:7:8::1")
        assert next_64.status_code == 401


@pytest.mark.parametrize(
    ("path", "body"),
    [("/api/identity/me/password", {"new_password": "a brand new passphrase 77"}),
     ("/api/identity/me/email", {"new_email": "moved.somewhere@example.com"})],
)  # fmt: skip
async def test_guessing_the_current_password_with_an_access_token_is_slowed_too(
    client: httpx.AsyncClient, settings: Settings, path: str, body: dict[str, str]
) -> None:
    user = await sign_up(client)
    token = bearer((await log_in(client, user["email"]))["access_token"])
    for i in range(settings.login_free_failures):
        wrong = await client.post(path, json={**body, "current_password": f"guess {i} !!!!!!"}, headers=token)
        assert wrong.status_code == 401
    await fresh_failures(settings)
    slowed = await client.post(path, json={**body, "current_password": STRONG_PASSWORD}, headers=token)
    assert slowed.status_code == 429
    assert int(slowed.headers["Retry-After"]) >= 1
    await age_failures(settings, 2)
    assert (await client.post(path, json={**body, "current_password": STRONG_PASSWORD}, headers=token)).status_code in (
        202, 204,
    )  # fmt: skip
