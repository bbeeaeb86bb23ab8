"""The dev inbox's storage: every received message as a .eml file in a folder, indexed in memory."""

from __future__ import annotations

import email
import email.policy
import threading
import time
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class StoredMessage:
    """One received message: the raw bytes plus the SMTP envelope."""

    id: str
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes

    def parsed(self) -> EmailMessage:
        message = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message

    def summary(self) -> dict[str, Any]:
        message = self.parsed()
        return {
            "id": self.id,
            "from": str(message.get("From", self.mail_from)),
            "to": list(self.rcpt_tos),
            "subject": str(message.get("Subject", "")),
            "date": _iso_date(message.get("Date")),
            "message_id": str(message.get("Message-ID", "")),
        }

    def detail(self) -> dict[str, Any]:
        message = self.parsed()
        headers: dict[str, str] = {}
        for name, value in message.items():
            headers[name] = f"{headers[name]}, {value}" if name in headers else str(value)
        return {
            **self.summary(),
            "headers": headers,
            "text": _body(message, "plain"),
            "html": _body(message, "html"),
            "raw": self.raw.decode("utf-8", errors="replace"),
        }


def _iso_date(value: object) -> str | None:
    if value is None:
        return None
    try:
        return parsedate_to_datetime(str(value)).isoformat()
    except (TypeError, ValueError):
        return str(value)


def _body(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return None
    content = part.get_content()
    return content if isinstance(content, str) else None


class MailStore:
    """Messages in folder/<id>.eml with a small envelope header line; thread-safe; survives a restart."""

    ENVELOPE = b"X-Casefold-Envelope: "

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._messages: dict[str, StoredMessage] = {}
        for path in sorted(folder.glob("*.eml")):
            stored = self._load(path)
            self._messages[stored.id] = stored

    def _load(self, path: Path) -> StoredMessage:
        data = path.read_bytes()
        rcpts: tuple[str, ...]
        mail_from, rcpts = "", ()
        if data.startswith(self.ENVELOPE):
            line, _, data = data.partition(b"\r\n")
            fields = line[len(self.ENVELOPE) :].decode(errors="replace").split(" ")
            mail_from, rcpts = fields[0], tuple(f for f in fields[1:] if f)
        return StoredMessage(path.stem, mail_from, rcpts, data)

    def add(self, mail_from: str, rcpt_tos: list[str], raw: bytes) -> StoredMessage:
        message_id = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        stored = StoredMessage(message_id, mail_from, tuple(rcpt_tos), raw)
        envelope = self.ENVELOPE + " ".join([mail_from or "<>", *rcpt_tos]).encode() + b"\r\n"
        tmp = self.folder / f".{message_id}.tmp"
        tmp.write_bytes(envelope + raw)
        tmp.rename(self.folder / f"{message_id}.eml")
        with self._lock:
            self._messages[message_id] = stored
        return stored

    def list(self, to: str | None = None) -> list[StoredMessage]:
        """Oldest first; `to` keeps the messages one of whose recipients contains it (case-insensitive)."""
        with self._lock:
            messages = sorted(self._messages.values(), key=lambda m: m.id)
        if to:
            needle = to.lower()
            messages = [m for m in messages if any(needle in r.lower() for r in m.rcpt_tos)]
        return messages

    def get(self, message_id: str) -> StoredMessage | None:
        with self._lock:
            return self._messages.get(message_id)

    def clear(self) -> int:
        with self._lock:
            count = len(self._messages)
            self._messages.clear()
            for path in self.folder.glob("*.eml"):
                path.unlink(missing_ok=True)
        return count
