"""The dev inbox: a real SMTP server whose mail a person (UI) or a test (API) reads, kept across restarts."""

from __future__ import annotations

import email
import email.policy
import html
import re
import smtplib
import sys
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi.testclient import TestClient

from casefold_local.mailbox import http_app
from casefold_local.mailstore import INDEX_FILE, MailStore
from casefold_local.managed import ManagedProcess
from casefold_local.procs import free_port, port_open, wait_until


class Inbox:
    def __init__(self, state: Path, reply_smtp_port: int | None = None) -> None:
        self.smtp_port, self.http_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        reply = ["--reply-smtp-port", str(reply_smtp_port)] if reply_smtp_port else []
        self.process = ManagedProcess(
            "mailbox",
            [sys.executable, "-m", "casefold_local.mailbox", "--smtp-port", str(self.smtp_port),
             "--http-port", str(self.http_port), "--state-dir", str(state / "mail"), *reply],
            state / "logs", marker=str(state / "mail"),
        )  # fmt: skip

    def start(self) -> None:
        self.process.start()
        wait_until(lambda: port_open(self.http_port) and port_open(self.smtp_port), 20, "inbox")

    def send(self, to: str, subject: str, html: str | None = None, **headers: str) -> None:
        send_to(self.smtp_port, to, subject, html, **headers)


def send_to(port: int, to: str, subject: str, html: str | None = None, **headers: str) -> None:
    message = EmailMessage()
    message["From"] = "Casefold <support@casefold.local>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{subject.replace(' ', '-')}@casefold.local>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(f"Hello,\n{subject}\n")
    if html:
        message.add_alternative(html, subtype="html")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(message)


@pytest.fixture
def inbox(tmp_path: Path) -> Iterator[Inbox]:
    running = Inbox(tmp_path)
    running.start()
    try:
        yield running
    finally:
        running.process.stop(5)


def test_received_mail_is_listed_and_readable_in_full(inbox: Inbox) -> None:
    inbox.send("ada@example.com", "Case 000042 opened", html="<p>Case <b>000042</b></p>")
    inbox.send("bob@example.com", "Welcome")

    listed = httpx.get(f"{inbox.url}/api/messages", timeout=5).json()
    assert [m["subject"] for m in listed] == ["Case 000042 opened", "Welcome"]
    assert listed[0]["to"] == ["ada@example.com"]
    assert listed[0]["message_id"] == "<Case-000042-opened@casefold.local>"
    only_ada = httpx.get(f"{inbox.url}/api/messages", params={"to": "ADA@example.com"}, timeout=5).json()
    assert [m["id"] for m in only_ada] == [listed[0]["id"]]

    full = httpx.get(f"{inbox.url}/api/messages/{listed[0]['id']}", timeout=5).json()
    assert "Case 000042 opened" in full["text"]
    assert "<b>000042</b>" in full["html"]
    assert full["headers"]["From"] == "Casefold <support@casefold.local>"
    assert "Subject: Case 000042 opened" in full["raw"]

    page = httpx.get(f"{inbox.url}/", timeout=5).text
    assert f"/messages/{listed[0]['id']}" in page
    assert "Case 000042" in httpx.get(f"{inbox.url}/messages/{listed[0]['id']}", timeout=5).text


def test_unknown_message_is_404(inbox: Inbox) -> None:
    assert httpx.get(f"{inbox.url}/api/messages/nope", timeout=5).status_code == 404


def test_mail_survives_a_restart_and_delete_empties_the_inbox(inbox: Inbox) -> None:
    inbox.send("ada@example.com", "Kept")
    inbox.process.stop(5)
    inbox.start()

    assert [m["subject"] for m in httpx.get(f"{inbox.url}/api/messages", timeout=5).json()] == ["Kept"]
    assert httpx.delete(f"{inbox.url}/api/messages", timeout=5).status_code == 204
    assert httpx.get(f"{inbox.url}/api/messages", timeout=5).json() == []


def test_pages_run_newest_first_before_a_given_message(inbox: Inbox) -> None:
    for n in range(5):
        inbox.send("ada@example.com" if n % 2 == 0 else "bob@example.com", f"Mail {n}")

    first = httpx.get(f"{inbox.url}/api/messages", params={"limit": 2}, timeout=5).json()
    assert [m["subject"] for m in first] == ["Mail 4", "Mail 3"]
    rest = httpx.get(f"{inbox.url}/api/messages", params={"limit": 10, "before": first[-1]["id"]}, timeout=5).json()
    assert [m["subject"] for m in rest] == ["Mail 2", "Mail 1", "Mail 0"]
    ada = httpx.get(f"{inbox.url}/api/messages", params={"to": "ada@", "limit": 2}, timeout=5).json()
    assert [m["subject"] for m in ada] == ["Mail 4", "Mail 2"]
    assert httpx.get(f"{inbox.url}/api/messages", params={"before": "../x"}, timeout=5).status_code == 422


def _add(store: MailStore, n: int) -> None:
    message = EmailMessage()
    message["From"] = "Casefold <support@casefold.local>"
    message["To"] = f"user{n}@example.com"
    message["Subject"] = f"Case {n:06d}"
    message["Date"] = "Tue, 01 Dec 2026 10:00:00 +0000"
    message["Message-ID"] = f"<m{n}@casefold.local>"
    message.set_content(f"Body {n}")
    store.add("support@casefold.local", [f"user{n}@example.com"], message.as_bytes())


def test_a_page_view_reads_only_the_index_not_the_message_files(tmp_path: Path) -> None:
    store = MailStore(tmp_path / "mail")
    for n in range(120):
        _add(store, n)
    for path in (tmp_path / "mail").glob("*.eml"):
        path.unlink()  # were any file opened for a list, it would fail or come back short now

    client = TestClient(http_app(store))
    page = client.get("/api/messages", params={"limit": 50}).json()
    assert len(page) == 50
    assert page[0]["subject"] == "Case 000119"
    assert page[0] == {
        "id": page[0]["id"],
        "from": "Casefold <support@casefold.local>",
        "to": ["user119@example.com"],
        "subject": "Case 000119",
        "date": "2026-12-01T10:00:00+00:00",
        "message_id": "<m119@casefold.local>",
    }
    ui = client.get("/").text
    assert ui.count("<tr>") == 51
    assert "older messages" in ui
    store.close()


def test_a_lost_index_is_rebuilt_from_the_message_files(tmp_path: Path) -> None:
    store = MailStore(tmp_path / "mail")
    for n in range(3):
        _add(store, n)
    store.close()
    (tmp_path / "mail" / INDEX_FILE).unlink()

    rebuilt = MailStore(tmp_path / "mail")
    assert [m.subject for m in rebuilt.list()] == ["Case 000000", "Case 000001", "Case 000002"]
    assert [m.subject for m in rebuilt.page("user1@", limit=5)] == ["Case 000001"]
    rebuilt.close()


class Listener:
    """A real SMTP server standing in for notifications' inbound listener."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or b""
        self.received.append((str(envelope.mail_from), list(envelope.rcpt_tos), raw))
        return "250 OK"


@pytest.fixture
def listener() -> Iterator[tuple[Listener, int]]:
    handler, port = Listener(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def _form_values(page: str) -> dict[str, Any]:
    values = {k: html.unescape(v) for k, v in re.findall(r"name='(\w+)' size='60' value='([^']*)'", page)}
    body = re.search(r"<textarea name='body'[^>]*>(.*?)</textarea>", page, re.S)
    assert body, "no reply form on the message page"
    return {**values, "body": html.unescape(body.group(1))}


def test_the_reply_form_sends_a_threaded_reply_to_the_inbound_listener(
    tmp_path: Path, listener: tuple[Listener, int]
) -> None:
    received, port = listener
    inbox = Inbox(tmp_path, reply_smtp_port=port)
    inbox.start()
    try:
        inbox.send("ada@example.com", "Case 000042 opened", Reply_To="support+tok123@casefold.local",
                   References="<root@casefold.local>")  # fmt: skip
        original = httpx.get(f"{inbox.url}/api/messages", timeout=5).json()[0]
        form = _form_values(httpx.get(f"{inbox.url}/messages/{original['id']}", timeout=5).text)
        assert form["from"] == "ada@example.com"
        assert form["to"] == "support+tok123@casefold.local"
        assert form["subject"] == "Re: Case 000042 opened"
        assert "> Case 000042 opened" in form["body"]

        form["body"] = "It works again, thanks.\n" + form["body"]
        answer = httpx.post(f"{inbox.url}/messages/{original['id']}/reply", data=form, timeout=10)
        assert answer.status_code == 200
        assert "Reply sent" in answer.text
    finally:
        inbox.process.stop(5)

    assert len(received.received) == 1
    mail_from, rcpts, raw = received.received[0]
    assert (mail_from, rcpts) == ("ada@example.com", ["support+tok123@casefold.local"])
    reply = email.message_from_bytes(raw, policy=email.policy.default)
    assert reply["Subject"] == "Re: Case 000042 opened"
    assert reply["In-Reply-To"] == "<Case-000042-opened@casefold.local>"
    assert reply["References"] == "<root@casefold.local> <Case-000042-opened@casefold.local>"
    assert isinstance(reply, EmailMessage)
    text = reply.get_body(("plain",))
    assert text is not None
    assert str(text.get_content()).startswith("It works again, thanks.")
