"""The identity service answers its health probes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from identity.main import create_app


def test_healthz_answers() -> None:
    with TestClient(create_app()) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "identity"}


def test_readyz_answers_when_nothing_is_failing() -> None:
    with TestClient(create_app()) as client:
        assert client.get("/readyz").status_code == 200
