"""The dev inbox: a real SMTP server whose mail a person (UI) or a test (API) reads, kept across restarts."""

from __future__ import annotations

import smtplib
import sys
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from casefold_local.managed import ManagedProcess
from casefold_local.procs import free_port, port_open, wait_until


class Inbox:
    def __init__(self, state: Path) -> None:
        self.smtp_port, self.http_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.process = ManagedProcess(
            "mailbox",
            [sys.executable, "-m", "casefold_local.mailbox", "--smtp-port", str(self.smtp_port),
             "--http-port", str(self.http_port), "--state-dir", str(state / "mail")],
            state / "logs", marker=str(state / "mail"),
        )  # fmt: skip

    def start(self) -> None:
        self.process.start()
        wait_until(lambda: port_open(self.http_port) and port_open(self.smtp_port), 20, "inbox")

    def send(self, to: str, subject: str, html: str | None = None) -> None:
        message = EmailMessage()
        message["From"] = "Casefold <support@casefold.local>"
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = f"<{subject.replace(' ', '-')}@casefold.local>"
        message.set_content(f"Hello,\n{subject}\n")
        if html:
            message.add_alternative(html, subtype="html")
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=10) as smtp:
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
