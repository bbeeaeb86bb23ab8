"""Log lines: JSON with service, time, level, request and trace ids; secrets never written."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog
from opentelemetry.sdk.trace import TracerProvider

from casefold_platform.logging import REDACTED, configure_logging, is_secret_key, redact_secrets

LogLines = Callable[[], list[dict[str, Any]]]


def test_secret_keys_are_redacted_at_any_depth() -> None:
    event = {
        "event": "login",
        "password": "hunter2",
        "refresh_token": "abc",
        "headers": {"Authorization": "Bearer abc", "Cookie": "s=1", "accept": "json"},
        "items": [{"api_key": "k", "name": "n"}],
        "client_secret": "x",
        "new_password": "y",
    }

    redacted = redact_secrets(None, "info", event)

    assert redacted["password"] == REDACTED
    assert redacted["refresh_token"] == REDACTED
    assert redacted["headers"] == {"Authorization": REDACTED, "Cookie": REDACTED, "accept": "json"}
    assert redacted["items"] == [{"api_key": REDACTED, "name": "n"}]
    assert redacted["client_secret"] == REDACTED
    assert redacted["new_password"] == REDACTED
    assert redacted["event"] == "login"


def test_every_listed_secret_name_is_recognised() -> None:
    names = ["password", "token", "refresh_token", "access_token", "authorization", "secret", "api_key", "cookie"]
    assert all(is_secret_key(name) for name in names)
    assert all(is_secret_key(name.upper().replace("_", "-")) for name in names)


def test_innocent_keys_are_kept() -> None:
    event = {"event": "verified", "token_id": "jti-1", "user_id": "u", "status": 200}

    assert redact_secrets(None, "info", dict(event)) == event


def test_a_jwt_inside_a_message_is_redacted() -> None:
    jwt_like = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"

    redacted = redact_secrets(None, "info", {"event": f"could not verify {jwt_like} today"})

    assert redacted["event"] == f"could not verify {REDACTED} today"


def test_lines_are_json_with_service_timestamp_level_and_trace_context(
    log_lines: LogLines, provider: TracerProvider
) -> None:
    with provider.get_tracer("t").start_as_current_span("work") as span:
        structlog.get_logger("casefold.test").info("did_work", password="hunter2", count=3)
        expected_trace = format(span.get_span_context().trace_id, "032x")
        expected_span = format(span.get_span_context().span_id, "016x")

    [line] = log_lines()
    assert line["event"] == "did_work"
    assert line["service"] == "test"
    assert line["level"] == "info"
    assert line["count"] == 3
    assert line["password"] == REDACTED
    assert line["trace_id"] == expected_trace
    assert line["span_id"] == expected_span
    assert "request_id" in line
    assert datetime.fromisoformat(line["timestamp"]).utcoffset() is not None


def test_stdlib_loggers_share_the_json_renderer(log_lines: LogLines) -> None:
    logging.getLogger("aiokafka.consumer").warning("rebalancing %s", "group-1", extra={"token": "t"})

    [line] = log_lines()
    assert line["event"] == "rebalancing group-1"
    assert line["service"] == "test"
    assert line["level"] == "warning"
    assert line["logger"] == "aiokafka.consumer"
    assert line["token"] == REDACTED
    assert line["trace_id"] is None


def test_a_password_inside_a_url_is_redacted() -> None:
    redacted = redact_secrets(None, "info", {"event": "cannot reach postgresql://cases:s3cr3t@db:5432/cases"})

    assert redacted["event"] == f"cannot reach postgresql://cases:{REDACTED}@db:5432/cases"


def test_exceptions_are_structured_without_locals_or_secrets(log_lines: LogLines) -> None:
    password = "hunter2"
    try:
        raise ConnectionError(f"no route to postgresql://app:{password}@db/app")
    except ConnectionError:
        structlog.get_logger().exception("failed")
        logging.getLogger("aiokafka").exception("also failed")

    lines = log_lines()
    assert [line["level"] for line in lines] == ["error", "error"]
    for line in lines:
        assert line["exception"][0]["exc_type"] == "ConnectionError"
        assert "hunter2" not in str(line)


def test_console_mode_renders_readable_lines() -> None:
    buffer = io.StringIO()
    configure_logging("dev", json=False, stream=buffer)
    try:
        structlog.get_logger().info("started", port=8002, password="p")
    finally:
        logging.getLogger().handlers[:] = [h for h in logging.getLogger().handlers if h.get_name() != "casefold-json"]
        structlog.reset_defaults()

    assert "started" in buffer.getvalue()
    assert "port=8002" in buffer.getvalue()
    assert "password=[redacted]" in buffer.getvalue()
