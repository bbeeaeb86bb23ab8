"""The identity service answers its liveness probe without any server behind it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from identity.config import Settings
from identity.main import create_app


def test_healthz_answers() -> None:
    # No `with`: the lifespan (database pool) does not run; liveness must not depend on it.
    client = TestClient(create_app(Settings(environment="test")))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "identity"}


def test_every_route_is_documented() -> None:
    app = create_app(Settings(environment="test"))
    spec = TestClient(app).get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("description") or operation.get("summary"), f"{method} {path}"
