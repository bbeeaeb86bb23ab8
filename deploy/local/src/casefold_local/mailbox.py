"""The dev mail inbox: a real SMTP server (aiosmtpd) and a small HTTP UI/API to read what was sent.

`python -m casefold_local.mailbox --smtp-port 1025 --http-port 8025 --state-dir .casefold/mail`
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import signal
from collections.abc import Generator
from pathlib import Path
from typing import Any

import uvicorn
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse

from casefold_local.mailstore import MailStore

MAX_MESSAGE_BYTES = 50 * 1024 * 1024


class StoreHandler:
    """aiosmtpd handler: every accepted DATA goes into the store."""

    def __init__(self, store: MailStore) -> None:
        self.store = store

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or b""
        self.store.add(str(envelope.mail_from or ""), [str(r) for r in envelope.rcpt_tos], raw)
        return "250 Message accepted for delivery"


def http_app(store: MailStore) -> FastAPI:
    app = FastAPI(title="Casefold dev inbox", docs_url="/docs", redoc_url=None)

    @app.get("/api/messages")
    def list_messages(to: str | None = Query(default=None, max_length=320)) -> list[dict[str, Any]]:
        """Every message, oldest first; ?to= filters by recipient."""
        return [m.summary() for m in store.list(to)]

    @app.get("/api/messages/{message_id}")
    def get_message(message_id: str) -> dict[str, Any]:
        """One message: headers, text, html and the raw source."""
        stored = store.get(message_id)
        if stored is None:
            raise HTTPException(404, "no such message")
        return stored.detail()

    @app.delete("/api/messages", status_code=204)
    def delete_messages() -> None:
        """Empty the inbox."""
        store.clear()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """Alive."""
        return {"status": "ok"}

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        """The inbox as a page, newest first."""
        rows = "".join(
            f"<tr><td>{html.escape(s['date'] or '')}</td><td>{html.escape(', '.join(s['to']))}</td>"
            f"<td><a href='/messages/{s['id']}'>{html.escape(s['subject'] or '(no subject)')}</a></td></tr>"
            for s in (m.summary() for m in reversed(store.list()))
        )
        return _page("Casefold dev inbox", f"<table><tr><th>date</th><th>to</th><th>subject</th></tr>{rows}</table>")

    @app.get("/messages/{message_id}", response_class=HTMLResponse)
    def show(message_id: str) -> str:
        """One message as a page: headers and the text part (the HTML part is linked, sandboxed)."""
        stored = store.get(message_id)
        if stored is None:
            raise HTTPException(404, "no such message")
        d = stored.detail()
        headers = "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in d["headers"].items()
        )
        frame = (
            f"<iframe sandbox srcdoc='{html.escape(d['html'], quote=True)}' style='width:100%;height:30em'></iframe>"
            if d["html"]
            else ""
        )
        text = html.escape(d["text"] or "")
        return _page(d["subject"], f"<p><a href='/'>inbox</a></p><table>{headers}</table><pre>{text}</pre>{frame}")

    return app


def _page(title: str, body: str) -> str:
    style = "body{font-family:sans-serif;margin:2em}td,th{padding:.2em .6em;text-align:left;vertical-align:top}"
    head = f"<!doctype html><title>{html.escape(title)}</title><style>{style}</style>"
    return f"{head}<h1>{html.escape(title)}</h1>{body}"


class _QuietServer(uvicorn.Server):
    """Signals belong to serve() below, which also closes the SMTP server."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


async def serve(store: MailStore, smtp_port: int, http_port: int, host: str = "127.0.0.1") -> None:
    """SMTP and HTTP on one event loop until SIGTERM/SIGINT."""
    loop = asyncio.get_running_loop()
    handler = StoreHandler(store)
    smtp = await loop.create_server(
        lambda: SMTP(handler, data_size_limit=MAX_MESSAGE_BYTES, hostname="casefold-inbox"), host, smtp_port
    )
    server = _QuietServer(uvicorn.Config(http_app(store), host=host, port=http_port, log_level="warning"))
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    http_task = asyncio.create_task(server.serve())
    stop_task = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({http_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        server.should_exit = True
        await asyncio.wait_for(http_task, 10)
        stop_task.cancel()
        smtp.close()
        await smtp.wait_closed()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m casefold_local.mailbox", description=__doc__)
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    parser.add_argument("--state-dir", type=Path, default=Path(".casefold/mail"))
    args = parser.parse_args(argv)
    store = MailStore(args.state_dir)
    print(f"inbox: SMTP 127.0.0.1:{args.smtp_port}, UI http://127.0.0.1:{args.http_port}/", flush=True)
    asyncio.run(serve(store, args.smtp_port, args.http_port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
