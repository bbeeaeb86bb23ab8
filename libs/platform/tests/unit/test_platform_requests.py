"""Request ids: the gateway's id is kept when sane, else replaced; one access line per request."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from casefold_platform.requests import accept_request_id

LogLines = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def client(app_factory: Callable[..., FastAPI]) -> TestClient:
    return TestClient(app_factory())


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def test_a_sane_incoming_request_id_is_echoed(client: TestClient) -> None:
    response = client.get("/things/1", headers={"X-Request-ID": "gw-7f3a.42:abc"})

    assert response.headers["x-request-id"] == "gw-7f3a.42:abc"


def test_a_missing_request_id_is_generated(client: TestClient) -> None:
    response = client.get("/things/1")

    assert is_uuid(response.headers["x-request-id"])


@pytest.mark.parametrize("bad", ["x" * 129, "has space", "semi;colon", "-leading-dash", "", "line\tbreak", "é"])
def test_an_insane_request_id_is_replaced(bad: str) -> None:
    assert is_uuid(accept_request_id(bad))


def test_an_insane_incoming_header_is_replaced_in_the_response(client: TestClient) -> None:
    response = client.get("/things/1", headers={"X-Request-ID": "<script>alert(1)</script>"})

    assert is_uuid(response.headers["x-request-id"])


def test_one_access_line_per_request(client: TestClient, log_lines: LogLines) -> None:
    response = client.get("/things/7?token=secret", headers={"X-Request-ID": "req-1"})

    assert response.status_code == 200
    [access] = [line for line in log_lines() if line["event"] == "request"]
    assert access["method"] == "GET"
    assert access["path"] == "/things/7"
    assert access["status"] == 200
    assert access["request_id"] == "req-1"
    assert access["duration_ms"] >= 0
    assert access["level"] == "info"
    assert "error_id" not in access
    assert "secret" not in str(access)


def test_probe_requests_are_logged_at_debug(client: TestClient, log_lines: LogLines) -> None:
    client.get("/healthz")

    [access] = [line for line in log_lines() if line["event"] == "request"]
    assert access["level"] == "debug"


def test_log_lines_inside_a_request_carry_its_id(app_factory: Callable[..., FastAPI], log_lines: LogLines) -> None:
    app = app_factory()

    @app.get("/chatty")
    async def chatty() -> dict[str, str]:
        import structlog

        structlog.get_logger().info("handling")
        return {}

    TestClient(app).get("/chatty", headers={"X-Request-ID": "req-2"})

    [line] = [line for line in log_lines() if line["event"] == "handling"]
    assert line["request_id"] == "req-2"
    assert line["service"] == "test"
