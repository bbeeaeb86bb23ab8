"""The local trace viewer: an OTLP/HTTP receiver that keeps recent traces and shows them as trees.

`python -m casefold_local.traceviewer --port 4318` receives `POST /v1/traces` (protobuf, what the services' exporter
and Envoy send) and serves the traces on the same port: `/` (newest first, each a tree), `/traces/{id}`, and as JSON
`/api/traces` and `/api/traces/{id}`. `python -m casefold_local.traceviewer show [--url ...] [--last N]` prints the
newest traces as trees in a terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.responses import HTMLResponse
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from casefold_local.tracestore import Span, TraceStore, decode, describe, tree_lines

DEFAULT_PORT = 4318
PROTOBUF = "application/x-protobuf"
_TRACE_ID = r"^[0-9a-fA-F]{32}$"


def receiver_app(store: TraceStore) -> FastAPI:
    app = FastAPI(title="Casefold traces", docs_url="/docs", redoc_url=None)

    @app.post("/v1/traces")
    async def export(request: Request) -> Response:
        """OTLP/HTTP trace export (protobuf): the spans are kept, the answer is an empty export response."""
        if request.headers.get("content-type", "").split(";")[0].strip() != PROTOBUF:
            raise HTTPException(415, f"only {PROTOBUF} is accepted")
        try:
            store.add(decode(await request.body()))
        except DecodeError as exc:
            raise HTTPException(400, "not an OTLP ExportTraceServiceRequest") from exc
        return Response(ExportTraceServiceResponse().SerializeToString(), media_type=PROTOBUF)

    @app.get("/api/traces")
    def traces(limit: int = Query(default=20, ge=1, le=200)) -> list[dict[str, Any]]:
        """The most recently updated traces, newest first, each with its spans by start time."""
        return [_trace_json(spans) for spans in store.recent(limit)]

    @app.get("/api/traces/{trace_id}")
    def trace(trace_id: str = Path(pattern=_TRACE_ID)) -> dict[str, Any]:
        """One trace's spans so far."""
        return _trace_json(_known(store, trace_id))

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """Liveness."""
        return {"status": "ok"}

    @app.get("/", response_class=HTMLResponse)
    def index(limit: int = Query(default=20, ge=1, le=200)) -> str:
        """The newest traces, each drawn as a tree."""
        recent = store.recent(limit)
        body = "".join(_trace_html(spans) for spans in recent) or "<p>No traces yet: use the portal.</p>"
        return _page("Recent traces", body)

    @app.get("/traces/{trace_id}", response_class=HTMLResponse)
    def show(trace_id: str = Path(pattern=_TRACE_ID)) -> str:
        """One trace as a tree, with every span's attributes."""
        spans = _known(store, trace_id)
        details = "".join(
            f"<details><summary>{html.escape(s.service)}: {html.escape(s.name)}</summary><pre>"
            f"{html.escape(_attributes_text(s))}</pre></details>"
            for s in spans
        )
        return _page(f"Trace {trace_id}", _trace_html(spans) + details)

    return app


def _known(store: TraceStore, trace_id: str) -> list[Span]:
    spans = store.trace(trace_id)
    if not spans:
        raise HTTPException(404, "no such trace (yet)")
    return spans


def _trace_json(spans: list[Span]) -> dict[str, Any]:
    return {"trace_id": spans[0].trace_id, "spans": [s.as_json() for s in spans]}


def _attributes_text(span: Span) -> str:
    head = f"span {span.span_id}  parent {span.parent_span_id or '-'}  {span.kind}  {span.status}\n"
    return head + "\n".join(f"{key} = {value!r}" for key, value in sorted(span.attributes.items()))


def _trace_html(spans: list[Span]) -> str:
    link = f'<a href="/traces/{spans[0].trace_id}">{html.escape(describe(spans))}</a>'
    return f"<section><h2>{link}</h2><pre>{html.escape(chr(10).join(tree_lines(spans)))}</pre></section>"


STYLE = "body{font-family:sans-serif;margin:2rem}pre{font-size:13px;background:#f6f6f6;padding:.5rem}h2{font-size:1rem}"


def _page(title: str, body: str) -> str:
    heading = html.escape(title)
    return f"<!doctype html><html lang=en><title>{heading}</title><style>{STYLE}</style><h1>{heading}</h1>{body}</html>"


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # in a thread (tests) signals are the main thread's business


@dataclass(frozen=True)
class Receiver:
    """A running receiver: where to send OTLP (the base URL, as OTEL_EXPORTER_OTLP_ENDPOINT) and what it kept."""

    url: str
    store: TraceStore


@contextlib.contextmanager
def receiving(port: int, store: TraceStore | None = None, host: str = "127.0.0.1") -> Iterator[Receiver]:
    """A receiver in a background thread of this process (the e2e test's); stopped on exit."""
    store = store or TraceStore()
    config = uvicorn.Config(receiver_app(store), host=host, port=port, log_level="warning", access_log=False)
    server = _QuietServer(config)
    thread = threading.Thread(target=server.run, name="otlp-receiver", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the OTLP receiver did not start on {host}:{port}")
        time.sleep(0.02)
    try:
        yield Receiver(f"http://{host}:{port}", store)
    finally:
        server.should_exit = True
        thread.join(10)


def show(url: str, last: int) -> int:
    """Print the newest traces as trees."""
    try:
        found = httpx.get(f"{url.rstrip('/')}/api/traces", params={"limit": last}, timeout=5).json()
    except httpx.HTTPError as exc:
        print(f"no trace viewer answers at {url}: {exc}", file=sys.stderr)
        return 1
    for trace in reversed(found):
        spans = [_span(s) for s in trace["spans"]]
        print(describe(spans))
        print("\n".join(tree_lines(spans)), end="\n\n")
    return 0


def _span(data: dict[str, Any]) -> Span:
    start = int(data["start_ns"])
    return Span(data["trace_id"], data["span_id"], data["parent_span_id"], data["name"], data["kind"],
                data["service"], start, start + int(data["duration_ms"] * 1e6), data["status"],
                data["attributes"])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m casefold_local.traceviewer", description=__doc__)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="OTLP/HTTP and the web page (default 4318)")
    parser.add_argument("--keep", type=int, default=200, help="how many recent traces to keep (default 200)")
    commands = parser.add_subparsers(dest="command")
    printer = commands.add_parser("show", help="print the newest traces of a running viewer as trees")
    printer.add_argument("--url", default=f"http://127.0.0.1:{DEFAULT_PORT}")
    printer.add_argument("--last", type=int, default=5)
    args = parser.parse_args(argv)
    if args.command == "show":
        return show(args.url, args.last)
    app = receiver_app(TraceStore(max_traces=args.keep))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
