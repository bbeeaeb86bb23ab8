"""A PostgreSQL restart under the running service: 503 with Retry-After meanwhile, never a 500, nothing half-written.

A private server (stopped and started mid-test) stands in for the module's database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest
from cases_builders import User

from casefold_local import PostgresServer
from casefold_local.procs import free_port

pytestmark = pytest.mark.integration

BODY = {"product": "casefold-cloud", "subject": "Nightly sync stalls", "description": "Since Monday.", "severity": 2}


@pytest.fixture(scope="module")
def private_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    server = PostgresServer(tmp_path_factory.mktemp("pg") / "pg", port=free_port(), fast=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def database(private_server: PostgresServer) -> str:
    """The module's database is the private server's (the app fixtures build on it)."""
    return private_server.dsn()


async def test_while_the_database_restarts_requests_get_503_and_a_retry_lands_once(
    private_server: PostgresServer, user: Callable[..., User]
) -> None:
    alice = user()
    before = await alice.open(subject="Before the restart")
    key = {"Idempotency-Key": "restart-7f3a"}

    await asyncio.to_thread(private_server.stop)
    down = [await alice.post("/api/cases", json=BODY, headers=key), await alice.get("/api/cases")]
    for response in down:
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"] == "5"
    await asyncio.to_thread(private_server.start)

    answers = []
    for _ in range(40):  # the pool's connections to the old server fail once each, then are replaced
        answer = await alice.post("/api/cases", json=BODY, headers=key)
        answers.append(answer.status_code)
        if answer.status_code == 201:
            break
        await asyncio.sleep(0.1)
    assert answers[-1] == 201
    assert set(answers) <= {201, 503}  # never a 500
    again = await alice.post("/api/cases", json=BODY, headers=key)
    assert again.json()["id"] == answer.json()["id"]  # the same key answers the same case

    listed = await alice.list()
    assert sorted(c["id"] for c in listed["items"]) == sorted([before["id"], answer.json()["id"]])
