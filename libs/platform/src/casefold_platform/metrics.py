"""Prometheus metrics of HTTP and mail, the HTTP middleware and /metrics (event metrics: casefold_events.metrics)."""

from __future__ import annotations

import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
)
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Imported for its registrations: every service's /metrics shows the relay and consumer series (0 where unused),
# as the alerts on outbox backlog and consumer lag expect.
import casefold_events.metrics  # noqa: F401

# Metric objects hold no connections, so module-level definitions are fine; defining them once (here) is what keeps
# repeated create_app() calls in tests from registering duplicates.

HTTP_REQUESTS = Counter("casefold_http_requests_total", "HTTP requests served.", ["method", "route", "status"])
HTTP_REQUEST_DURATION = Histogram(
    "casefold_http_request_duration_seconds",
    "Time to serve an HTTP request, until the handler returned.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
EMAILS_SENT = Counter("casefold_emails_sent_total", "Emails accepted by the SMTP server.")
EMAILS_FAILED = Counter("casefold_emails_failed_total", "Email delivery attempts that failed (each retry counts).")

UNMATCHED_ROUTE = "unmatched"


def route_template(scope: Scope) -> str:
    """The matched route's path template ("/cases/{case_id}"); "unmatched" so that 404 probes add no series."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


class MetricsMiddleware:
    """Counts requests and observes their latency by method, route template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        began = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = route_template(scope)
            HTTP_REQUESTS.labels(scope["method"], route, str(status)).inc()
            HTTP_REQUEST_DURATION.labels(scope["method"], route, str(status)).observe(time.perf_counter() - began)


def metrics_response(registry: CollectorRegistry = REGISTRY) -> Response:
    """The Prometheus text exposition of the registry."""
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def serve_metrics(port: int, addr: str = "0.0.0.0") -> None:  # noqa: S104 - scraped from other pods
    """Expose /metrics of a process without an HTTP API (a worker) on its own port."""
    start_http_server(port, addr=addr)
