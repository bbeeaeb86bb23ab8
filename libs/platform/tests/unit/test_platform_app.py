"""The service skeleton: probes keep their shape; the app can be built many times in one process."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from casefold_platform.app import service_app


def test_healthz_names_the_service() -> None:
    response = TestClient(service_app("cases")).get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "cases"}


def test_readyz_reports_each_failing_dependency() -> None:
    async def postgres_ok(_: FastAPI) -> None:
        return None

    async def kafka_down(_: FastAPI) -> None:
        raise ConnectionRefusedError

    app = service_app("cases", readiness=[("postgres", postgres_ok), ("kafka", kafka_down)])
    response = TestClient(app).get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"postgres": "ok", "kafka": "failing: ConnectionRefusedError"},
    }


def test_the_app_can_be_built_many_times() -> None:
    for _ in range(3):
        assert TestClient(service_app("cases")).get("/metrics").status_code == 200


def test_fastapi_options_pass_through() -> None:
    app = service_app("cases", version="1.2.3", docs_url=None)

    assert app.version == "1.2.3"
    assert app.docs_url is None
