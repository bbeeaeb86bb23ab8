"""argon2 holds 64 MiB per operation: only IDENTITY_MAX_CONCURRENT_HASHES run at once, a full queue answers 503."""

from __future__ import annotations

import asyncio
import itertools
import threading

import httpx
import pytest
from identity_builders import STRONG_PASSWORD, running_server, settings_for, sign_up

from identity.app.common import Identity
from identity.main import create_app

pytestmark = pytest.mark.integration

_ADDRESSES = itertools.count(1)


def fresh_address() -> dict[str, str]:
    n = next(_ADDRESSES)
    return {"X-Forwarded-For": f"198.51.100.{n % 250}, 10.77.{n // 250 % 250}.{n % 250}"}


async def test_concurrent_logins_never_run_more_argon2_operations_than_the_limit(database: str) -> None:
    settings = settings_for(database, max_concurrent_hashes=2, hash_queue_size=64, trust_forwarded_for=True)
    app = create_app(settings)
    async with running_server(settings, app) as url, httpx.AsyncClient(base_url=url, timeout=60) as client:
        ctx: Identity = app.state.identity
        user = await sign_up(client)
        ctx.passwords.peak = 0
        answers = await asyncio.gather(*(
            client.post("/api/identity/sessions", json={"email": user["email"], "password": STRONG_PASSWORD},
                        headers=fresh_address())
            for _ in range(12)
        ))  # fmt: skip
        assert [a.status_code for a in answers] == [200] * 12
        assert 1 <= ctx.passwords.peak <= 2


async def test_a_full_hashing_queue_answers_503_with_retry_after_and_the_queued_login_completes(
    database: str,
) -> None:
    settings = settings_for(database, max_concurrent_hashes=1, hash_queue_size=1, trust_forwarded_for=True)
    app = create_app(settings)
    async with running_server(settings, app) as url, httpx.AsyncClient(base_url=url, timeout=60) as client:
        ctx: Identity = app.state.identity
        user = await sign_up(client)
        credentials = {"email": user["email"], "password": STRONG_PASSWORD}
        release = threading.Event()
        holder = asyncio.create_task(ctx.hashing.run(lambda: release.wait(30)))
        queued = asyncio.create_task(client.post("/api/identity/sessions", json=credentials, headers=fresh_address()))
        try:
            for _ in range(500):
                if ctx.hashing.admitted == 2:
                    break
                await asyncio.sleep(0.01)
            assert ctx.hashing.admitted == 2
            busy = await client.post("/api/identity/sessions", json=credentials, headers=fresh_address())
            assert busy.status_code == 503
            assert busy.headers["content-type"].startswith("application/problem+json")
            assert busy.json()["type"].endswith("password-hashing-busy")
            assert int(busy.headers["Retry-After"]) >= 1
        finally:
            release.set()
            await holder
        assert (await queued).status_code == 200
        # The refused attempt was never checked, so it counted towards no lockout: 5 wrong ones still get 401s.
        for _ in range(settings.login_free_failures):
            wrong = await client.post("/api/identity/sessions", json={**credentials, "password": "not it at all"},
                                      headers=fresh_address())  # fmt: skip
            assert wrong.status_code == 401


async def test_the_openapi_documents_the_busy_answer_on_every_route_that_hashes(database: str) -> None:
    settings = settings_for(database)
    async with running_server(settings) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        paths = (await client.get("/openapi.json")).json()["paths"]
    for path, method in [("/api/identity/sessions", "post"), ("/api/identity/users", "post"),
                         ("/api/identity/me/password", "post"), ("/api/identity/password-resets/confirm", "post"),
                         ("/api/identity/me/email", "post")]:  # fmt: skip
        answer = paths[path][method]["responses"]["503"]
        assert "password-hashing-busy" in answer["description"]
        assert "Retry-After" in answer["headers"]
        assert "application/problem+json" in answer["content"]
