"""Prometheus: request counters by route template, and the shared metrics every library uses."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient

from casefold_events import metrics as event_metrics
from casefold_platform import metrics


def test_requests_are_counted_by_method_route_template_and_status(app_factory: Callable[..., FastAPI]) -> None:
    client = TestClient(app_factory())
    client.get("/things/1")
    client.get("/things/2")
    client.get("/things/404")
    client.get("/no/such/path/123")

    text = client.get("/metrics").text

    assert 'casefold_http_requests_total{method="GET",route="/things/{thing_id}",status="200"}' in text
    assert 'casefold_http_requests_total{method="GET",route="/things/{thing_id}",status="404"}' in text
    assert 'casefold_http_requests_total{method="GET",route="unmatched",status="404"}' in text
    assert (
        'casefold_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/things/{thing_id}",status="200"}'
        in text
    )
    assert "/things/1" not in text


def test_counts_grow_with_each_request(app_factory: Callable[..., FastAPI]) -> None:
    client = TestClient(app_factory())
    counter = metrics.HTTP_REQUESTS.labels("GET", "/things/{thing_id}", "200")
    before = counter._value.get()

    client.get("/things/1")
    client.get("/things/1")

    assert counter._value.get() == before + 2


def test_failed_requests_are_counted_as_500(app_factory: Callable[..., FastAPI]) -> None:
    client = TestClient(app_factory())
    counter = metrics.HTTP_REQUESTS.labels("GET", "/crash", "500")
    before = counter._value.get()

    client.get("/crash")

    assert counter._value.get() == before + 1


def test_metrics_endpoint_exposes_the_shared_metrics(app_factory: Callable[..., FastAPI]) -> None:
    event_metrics.OUTBOX_BACKLOG.set(3)
    event_metrics.CONSUMER_LAG.labels("notifications", "cases.events.v1", "0").set(5)
    event_metrics.DEAD_LETTERS.labels("notifications").inc()
    event_metrics.EVENTS_APPENDED.labels("CaseOpened").inc()
    metrics.EMAILS_SENT.inc()
    metrics.EMAILS_FAILED.inc()
    event_metrics.RELAY_LAG_SECONDS.set(0.5)

    response = TestClient(app_factory()).get("/metrics")

    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "casefold_outbox_backlog 3.0" in text
    assert 'casefold_consumer_lag{consumer="notifications",partition="0",topic="cases.events.v1"} 5.0' in text
    assert 'casefold_dead_letters_total{consumer="notifications"}' in text
    assert 'casefold_events_appended_total{event_type="CaseOpened"}' in text
    assert "casefold_emails_sent_total" in text
    assert "casefold_emails_failed_total" in text
    assert "casefold_relay_lag_seconds 0.5" in text
