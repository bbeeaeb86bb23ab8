"""Errors become RFC 9457 problem+json, each with an error_id that matches X-Request-ID and the log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient

from casefold_platform.problems import PROBLEM_BASE, NotFound, install_problem_handlers

LogLines = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def client(app_factory: Callable[..., FastAPI]) -> TestClient:
    return TestClient(app_factory())


def assert_problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == PROBLEM_BASE + slug
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert body["error_id"] == response.headers["x-request-id"]
    return body


def test_validation_error_names_the_field_by_dotted_path(client: TestClient) -> None:
    response = client.post("/cases", json={"subject": "Printer on fire", "severity": 7})

    body = assert_problem(response, 422, "invalid-input")
    assert [e["field"] for e in body["errors"]] == ["body.severity"]
    assert "3" in body["errors"][0]["message"]


def test_validation_error_never_echoes_the_input(client: TestClient) -> None:
    response = client.post("/cases", json={"subject": {"password": "hunter2"}, "severity": 1})

    body = assert_problem(response, 422, "invalid-input")
    assert "hunter2" not in response.text
    assert body["errors"][0]["field"] == "body.subject"


def test_malformed_json_is_a_400_naming_the_problem(client: TestClient) -> None:
    response = client.post("/cases", content=b'{"subject": "x", ', headers={"content-type": "application/json"})

    body = assert_problem(response, 400, "malformed-body")
    assert "JSON" in body["detail"]


def test_a_json_body_sent_as_another_media_type_is_415(client: TestClient) -> None:
    response = client.post("/cases", content=b'{"subject": "x", "severity": 1}', headers={"content-type": "text/plain"})

    body = assert_problem(response, 415, "unsupported-media-type")
    assert "application/json" in body["detail"]


def test_a_missing_json_body_is_422_naming_the_body(client: TestClient) -> None:
    body = assert_problem(client.post("/cases"), 422, "invalid-input")

    assert body["errors"][0]["field"] == "body"


def test_domain_errors_map_to_their_status_and_type(client: TestClient) -> None:
    assert_problem(client.get("/things/404"), 404, "not-found")
    body = assert_problem(client.post("/cases/1/comments"), 409, "case-closed")
    assert body["title"] == "Case is closed"
    assert body["detail"] == "The case is closed; open a new case."


def test_a_rule_broken_in_the_domain_names_its_field(client: TestClient) -> None:
    body = assert_problem(client.post("/products"), 422, "invalid-input")

    assert body["errors"] == [{"field": "body.product", "message": "unknown"}]
    assert body["detail"] == "The product is not in the catalogue."


def test_problem_handlers_work_without_the_platform_middleware() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/gone")
    async def gone() -> None:
        raise NotFound("Gone.")

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("secret internals")

    client = TestClient(app, raise_server_exceptions=False)
    assert_problem(client.get("/gone"), 404, "not-found")
    response = client.get("/crash")
    assert_problem(response, 500, "internal-error")
    assert "secret" not in response.text


def test_rate_limited_says_when_to_retry(client: TestClient) -> None:
    response = client.get("/slow-down")

    body = assert_problem(response, 429, "rate-limited")
    assert response.headers["retry-after"] == "30"
    assert body["retry_after"] == 30


def test_http_exceptions_and_routing_errors_are_problems(client: TestClient) -> None:
    assert_problem(client.get("/nowhere"), 404, "not-found")
    assert_problem(client.delete("/things/1"), 405, "method-not-allowed")
    body = assert_problem(client.get("/teapot"), 418, "i-m-a-teapot")
    assert body["detail"] == "I am a teapot"


def test_unexpected_error_is_a_500_that_hides_internals(client: TestClient, log_lines: LogLines) -> None:
    response = client.get("/crash")

    body = assert_problem(response, 500, "internal-error")
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    assert "error_id" in body["detail"]
    [logged] = [line for line in log_lines() if line["event"] == "unhandled_error"]
    assert logged["error_id"] == body["error_id"]
    assert logged["exception"][0]["exc_type"] == "RuntimeError"
    assert "hunter2" not in str(logged)


@pytest.mark.parametrize("path", ["/database-down", "/refused"])
def test_a_dependency_that_is_down_is_a_503_with_retry_after(
    client: TestClient, log_lines: LogLines, path: str
) -> None:
    response = client.get(path)

    body = assert_problem(response, 503, "service-unavailable")
    assert response.headers["retry-after"] == "5"
    assert "nothing was changed" in body["detail"]
    [logged] = [line for line in log_lines() if line["event"] == "dependency_unavailable"]
    assert logged["error_id"] == body["error_id"]
    assert not [line for line in log_lines() if line["event"] == "unhandled_error"]


def test_a_dependency_that_is_down_is_a_503_without_the_platform_middleware_too() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/down")
    async def down() -> None:
        raise TimeoutError

    response = TestClient(app, raise_server_exceptions=False).get("/down")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"


def test_the_access_line_of_a_failed_request_carries_its_error_id(client: TestClient, log_lines: LogLines) -> None:
    response = client.get("/things/404")

    [access] = [line for line in log_lines() if line["event"] == "request"]
    assert access["request_id"] == response.json()["error_id"]
    assert access["error_id"] == response.json()["error_id"]
    assert access["status"] == 404


def test_a_body_over_the_declared_limit_is_refused_with_413(client: TestClient) -> None:
    response = client.post("/raw", content=b"x" * 2048)

    body = assert_problem(response, 413, "too-large")
    assert body["max_bytes"] == 1024


def test_a_streamed_body_over_the_limit_is_refused_with_413(client: TestClient) -> None:
    def chunks() -> Any:
        for _ in range(8):
            yield b"x" * 512

    response = client.post("/raw", content=chunks())

    assert_problem(response, 413, "too-large")


def test_a_streamed_json_body_over_the_limit_is_413_not_a_parse_error(client: TestClient) -> None:
    def chunks() -> Any:
        yield b'{"subject": "'
        yield b"x" * 4096
        yield b'", "severity": 1}'

    response = client.post("/cases", content=chunks(), headers={"content-type": "application/json"})

    assert_problem(response, 413, "too-large")


def test_a_body_within_the_limit_passes(client: TestClient) -> None:
    response = client.post("/raw", content=b"x" * 1024)

    assert response.status_code == 200
    assert response.json() == {"size": 1024}


def test_a_5xx_http_exception_keeps_its_detail_to_itself() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/upstream")
    async def upstream() -> None:
        raise HTTPException(status_code=502, detail="smtp.internal:25 refused")

    response = TestClient(app).get("/upstream")

    assert response.status_code == 502
    assert response.json()["detail"] == "Bad Gateway"
