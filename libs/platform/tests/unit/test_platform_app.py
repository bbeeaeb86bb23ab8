"""The service skeleton: probes keep their shape; the app can be built many times in one process."""

from __future__ import annotations

import pytest
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


def test_operation_ids_are_the_service_and_route_function_names() -> None:
    app = service_app("cases")

    @app.get("/api/cases/{case_id}")
    async def get_case(case_id: str) -> dict[str, str]:
        """One case."""
        return {"id": case_id}

    @app.post("/api/cases/{case_id}/close")
    async def close_case(case_id: str) -> dict[str, str]:
        """Close it."""
        return {"id": case_id}

    paths = app.openapi()["paths"]
    assert paths["/api/cases/{case_id}"]["get"]["operationId"] == "cases_get_case"
    assert paths["/api/cases/{case_id}/close"]["post"]["operationId"] == "cases_close_case"


def test_an_operation_id_does_not_move_with_its_path() -> None:
    first, second = service_app("cases"), service_app("cases")

    @first.get("/api/cases/{case_id}")
    async def get_case(case_id: str) -> dict[str, str]:
        """One case."""
        return {"id": case_id}

    second.get("/api/v2/cases/by-id/{case_id}")(get_case)

    assert first.openapi()["paths"]["/api/cases/{case_id}"]["get"]["operationId"] == "cases_get_case"
    assert second.openapi()["paths"]["/api/v2/cases/by-id/{case_id}"]["get"]["operationId"] == "cases_get_case"


def test_two_routes_with_one_function_name_are_refused_naming_both() -> None:
    app = service_app("cases")

    async def read() -> dict[str, str]:
        """Read."""
        return {}

    app.get("/api/cases/a")(read)
    with pytest.raises(ValueError, match=r"'cases_read' of \['GET'\] /api/cases/b is taken by \['GET'\] /api/cases/a"):
        app.get("/api/cases/b")(read)


def test_the_heap_is_frozen_once_the_service_has_started_after_its_own_lifespan() -> None:
    import gc
    from collections.abc import AsyncIterator
    from contextlib import asynccontextmanager

    seen: list[int] = []

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        seen.append(gc.get_freeze_count())  # the service's own startup runs first
        yield

    gc.unfreeze()
    with TestClient(service_app("demo", lifespan=lifespan)) as client:
        assert client.get("/healthz").status_code == 200
        assert seen == [0]
        assert gc.get_freeze_count() > 0
    gc.unfreeze()
