"""The dev mail inbox: a real SMTP server (aiosmtpd) and a small HTTP UI/API to read what was sent, and to reply.

`python -m casefold_local.mailbox --smtp-port 1025 --http-port 8025 --state-dir .casefold/mail --reply-smtp-port 2525`

A message's page has a Reply form that sends the reply, as a person's mail client would, over SMTP to
--reply-smtp-port (notifications' inbound listener under `make run`), so the whole email loop can be tried locally.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import signal
import smtplib
import urllib.parse
from collections.abc import Generator
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from pathlib import Path
from typing import Any

import uvicorn
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from casefold_local.mailstore import MailStore, StoredMessage

MAX_MESSAGE_BYTES = 50 * 1024 * 1024
PAGE_SIZE = 50
_ID_PATTERN = r"^[0-9]{20}-[0-9a-f]{8}$"


class StoreHandler:
    """aiosmtpd handler: every accepted DATA goes into the store."""

    def __init__(self, store: MailStore) -> None:
        self.store = store

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or b""
        self.store.add(str(envelope.mail_from or ""), [str(r) for r in envelope.rcpt_tos], raw)
        return "250 Message accepted for delivery"


def http_app(store: MailStore, reply_smtp_port: int | None = None) -> FastAPI:
    app = FastAPI(title="Casefold dev inbox", docs_url="/docs", redoc_url=None)

    @app.get("/api/messages")
    def list_messages(
        to: str | None = Query(default=None, max_length=320),
        limit: int | None = Query(default=None, ge=1, le=1000),
        before: str | None = Query(default=None, pattern=_ID_PATTERN),
    ) -> list[dict[str, Any]]:
        """Every message, oldest first; ?to= filters by recipient. With ?limit= or ?before=<id>: one page, newest
        first, of those that arrived before that message (read from the index, no message is parsed)."""
        return [m.summary() for m in store.page(to, limit=limit, before=before)]

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
    def index(
        to: str | None = Query(default=None, max_length=320),
        before: str | None = Query(default=None, pattern=_ID_PATTERN),
    ) -> str:
        """The inbox as a page, newest first, PAGE_SIZE at a time (?before=<id> for older ones, ?to= to filter)."""
        found = store.page(to, limit=PAGE_SIZE + 1, before=before)
        shown = [m.summary() for m in found[:PAGE_SIZE]]
        rows = "".join(
            f"<tr><td>{html.escape(s['date'] or '')}</td><td>{html.escape(', '.join(s['to']))}</td>"
            f"<td><a href='/messages/{s['id']}'>{html.escape(s['subject'] or '(no subject)')}</a></td></tr>"
            for s in shown
        )
        filter_arg = html.escape(f"&to={urllib.parse.quote(to)}", quote=True) if to else ""
        older = (
            f"<p><a href='/?before={shown[-1]['id']}{filter_arg}'>older messages</a></p>"
            if len(found) > PAGE_SIZE
            else ""
        )
        table = f"<table><tr><th>date</th><th>to</th><th>subject</th></tr>{rows}</table>"
        return _page("Casefold dev inbox", f"{table}{older}")

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
        form = _reply_form(stored, d) if reply_smtp_port else "<p>(start with --reply-smtp-port to reply)</p>"
        body = f"<p><a href='/'>inbox</a></p><table>{headers}</table><pre>{text}</pre>{frame}{form}"
        return _page(d["subject"], body)

    @app.post("/messages/{message_id}/reply", response_class=HTMLResponse)
    async def reply(message_id: str, request: Request) -> str:
        """Send the Reply form's message over SMTP to the reply port, as a person's mail client would."""
        stored = store.get(message_id)
        if stored is None:
            raise HTTPException(404, "no such message")
        if reply_smtp_port is None:
            raise HTTPException(409, "this inbox was started without --reply-smtp-port")
        # urlencoded by the browser; parsed here so the inbox needs no multipart library
        form = {k: v[-1] for k, v in urllib.parse.parse_qs((await request.body()).decode(errors="replace")).items()}
        message = _reply_message(stored, form)
        try:
            await asyncio.to_thread(_send, message, reply_smtp_port)
        except smtplib.SMTPException as exc:
            detail = html.escape(str(exc))
            return _page("Reply refused", f"<p>The listener refused the reply: {detail}</p>")
        except OSError as exc:
            detail = html.escape(str(exc))
            return _page("Reply not sent", f"<p>No listener on port {reply_smtp_port}: {detail}</p>")
        sent = html.escape(str(message["To"]))
        return _page("Reply sent", f"<p>Sent to {sent}.</p><p><a href='/messages/{message_id}'>back</a></p>")

    return app


def _reply_defaults(stored: StoredMessage, detail: dict[str, Any]) -> dict[str, str]:
    """From = the message's To, To = its Reply-To or From, Subject "Re: ...", the original quoted."""
    headers = detail["headers"]
    subject = str(detail["subject"] or "")
    quoted = "\n".join(f"> {line}" for line in (detail["text"] or "").splitlines())
    when = headers.get("Date", "")
    return {
        "from": headers.get("To") or ", ".join(stored.rcpt_tos),
        "to": headers.get("Reply-To") or headers.get("From") or stored.mail_from,
        "subject": subject if subject.lower().startswith("re:") else f"Re: {subject}",
        "body": f"\n\nOn {when}, {headers.get('From', '')} wrote:\n{quoted}\n",
    }


def _reply_form(stored: StoredMessage, detail: dict[str, Any]) -> str:
    d = {k: html.escape(v, quote=True) for k, v in _reply_defaults(stored, detail).items()}
    return (
        f"<h2>Reply</h2><form method='post' action='/messages/{stored.id}/reply'>"
        f"<p><label>From <input name='from' size='60' value='{d['from']}'></label></p>"
        f"<p><label>To <input name='to' size='60' value='{d['to']}'></label></p>"
        f"<p><label>Subject <input name='subject' size='60' value='{d['subject']}'></label></p>"
        f"<p><textarea name='body' rows='14' cols='80'>{d['body']}</textarea></p>"
        "<p><button type='submit'>Send reply</button></p></form>"
    )


def _reply_message(stored: StoredMessage, form: dict[str, str]) -> EmailMessage:
    original = stored.parsed()
    defaults = _reply_defaults(stored, stored.detail())

    def field(name: str) -> str:
        return form.get(name, "").strip() or defaults[name]

    message = EmailMessage()
    message["From"] = field("from")
    message["To"] = field("to")
    message["Subject"] = field("subject")
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="inbox.casefold.local")
    parent = str(original.get("Message-ID", "")).strip()
    if parent:
        message["In-Reply-To"] = parent
        message["References"] = f"{str(original.get('References', '')).strip()} {parent}".strip()
    message.set_content(form.get("body", defaults["body"]))
    return message


def _send(message: EmailMessage, port: int) -> None:
    sender = getaddresses([str(message["From"])])[0][1]
    recipients = [a for _, a in getaddresses([str(message["To"])]) if a]
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.send_message(message, from_addr=sender, to_addrs=recipients)


def _page(title: str, body: str) -> str:
    style = "body{font-family:sans-serif;margin:2em}td,th{padding:.2em .6em;text-align:left;vertical-align:top}"
    head = f"<!doctype html><title>{html.escape(title)}</title><style>{style}</style>"
    return f"{head}<h1>{html.escape(title)}</h1>{body}"


class _QuietServer(uvicorn.Server):
    """Signals belong to serve() below, which also closes the SMTP server."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


async def serve(
    store: MailStore, smtp_port: int, http_port: int, host: str = "127.0.0.1", reply_smtp_port: int | None = None
) -> None:
    """SMTP and HTTP on one event loop until SIGTERM/SIGINT."""
    loop = asyncio.get_running_loop()
    handler = StoreHandler(store)
    smtp = await loop.create_server(
        lambda: SMTP(handler, data_size_limit=MAX_MESSAGE_BYTES, hostname="casefold-inbox"), host, smtp_port
    )
    server = _QuietServer(
        uvicorn.Config(http_app(store, reply_smtp_port), host=host, port=http_port, log_level="warning")
    )
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
    parser.add_argument("--reply-smtp-port", type=int, default=None, help="where the Reply form sends (127.0.0.1)")
    args = parser.parse_args(argv)
    store = MailStore(args.state_dir)
    print(f"inbox: SMTP 127.0.0.1:{args.smtp_port}, UI http://127.0.0.1:{args.http_port}/", flush=True)
    try:
        asyncio.run(serve(store, args.smtp_port, args.http_port, reply_smtp_port=args.reply_smtp_port))
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
