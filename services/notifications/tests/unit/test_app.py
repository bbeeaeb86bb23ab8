"""The notifications service answers its health probes (no lifespan: no database needed)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from notifications.config import Settings
from notifications.main import create_app


def test_healthz_answers() -> None:
    client = TestClient(create_app(Settings(environment="test")))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "notifications"}


def test_readyz_reports_a_missing_database() -> None:
    client = TestClient(create_app(Settings(environment="test")))
    assert client.get("/readyz").status_code == 503


def test_activity_needs_a_token() -> None:
    client = TestClient(create_app(Settings(environment="test")))
    response = client.get("/api/notifications/cases/00000000-0000-0000-0000-000000000001/activity")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
