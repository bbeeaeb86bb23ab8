"""The dev inbox's storage: every received message as a .eml file in a folder, plus a sqlite index of its summary.

The index (id, envelope, From, Subject, Date, Message-ID) is written when a message arrives, so listing a page reads
only the index: no message file is opened or parsed. It is rebuilt from the files when missing, and on start any file
the index lacks is added (and any entry without its file dropped).
"""

from __future__ import annotations

import email
import email.policy
import re
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

INDEX_FILE = "index.sqlite3"
_ID = re.compile(r"^[0-9]{20}-[0-9a-f]{8}$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY, mail_from TEXT NOT NULL, rcpts TEXT NOT NULL, rcpts_lower TEXT NOT NULL,
    from_header TEXT NOT NULL, subject TEXT NOT NULL, date TEXT, message_id TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class Summary:
    """What a list shows of one message, as the index holds it."""

    id: str
    mail_from: str
    rcpt_tos: tuple[str, ...]
    from_header: str
    subject: str
    date: str | None
    message_id: str

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "from": self.from_header or self.mail_from,
            "to": list(self.rcpt_tos),
            "subject": self.subject,
            "date": self.date,
            "message_id": self.message_id,
        }


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

    def summarised(self) -> Summary:
        message = self.parsed()
        return Summary(
            id=self.id,
            mail_from=self.mail_from,
            rcpt_tos=self.rcpt_tos,
            from_header=_header(message, "From"),
            subject=_header(message, "Subject"),
            date=_iso_date(message.get("Date")),
            message_id=_header(message, "Message-ID"),
        )

    def summary(self) -> dict[str, Any]:
        return self.summarised().summary()

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


def _header(message: EmailMessage, name: str) -> str:
    try:
        return str(message.get(name, ""))
    except (TypeError, ValueError, IndexError):  # an undecodable header is shown empty, never a failed list
        return ""


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


def _like(needle: str) -> str:
    escaped = needle.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class MailStore:
    """Messages in folder/<id>.eml with a small envelope header line, indexed in folder/index.sqlite3; thread-safe;
    survives a restart. Ids sort by arrival (a nanosecond clock first)."""

    ENVELOPE = b"X-Casefold-Envelope: "

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(folder / INDEX_FILE, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # a lost index entry is rebuilt from its file on start
        self._db.execute(_SCHEMA)
        self._reconcile()

    def _reconcile(self) -> None:
        """Index every file the index lacks and forget entries whose file is gone (a lost or stale index)."""
        on_disk = {p.stem for p in self.folder.glob("*.eml")}
        indexed = {row[0] for row in self._db.execute("SELECT id FROM messages")}
        with self._lock:
            self._db.execute("BEGIN")
            for gone in indexed - on_disk:
                self._db.execute("DELETE FROM messages WHERE id = ?", (gone,))
            for missing in sorted(on_disk - indexed):
                self._index(self._load(self.folder / f"{missing}.eml").summarised())
            self._db.execute("COMMIT")

    def _index(self, s: Summary) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (s.id, s.mail_from, "\n".join(s.rcpt_tos), "\n".join(s.rcpt_tos).lower(), s.from_header, s.subject,
             s.date, s.message_id),
        )  # fmt: skip

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
        summary = stored.summarised()
        with self._lock:
            self._index(summary)
        return stored

    def page(self, to: str | None = None, *, limit: int | None = None, before: str | None = None) -> list[Summary]:
        """From the index only. Without limit and before: every message, oldest first (the original answer). With
        either: newest first, at most limit, only those that arrived before the message id `before`. `to` keeps the
        messages one of whose recipients contains it (case-insensitive)."""
        where, args = [], []
        if to:
            where.append("rcpts_lower LIKE ? ESCAPE '\\'")
            args.append(_like(to))
        if before:
            where.append("id < ?")
            args.append(before)
        paged = limit is not None or before is not None
        sql = "SELECT id, mail_from, rcpts, from_header, subject, date, message_id FROM messages"
        sql += (" WHERE " + " AND ".join(where) if where else "") + (" ORDER BY id DESC" if paged else " ORDER BY id")
        if limit is not None:
            sql += " LIMIT ?"
            args.append(str(limit))
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [Summary(r[0], r[1], tuple(x for x in r[2].split("\n") if x), r[3], r[4], r[5], r[6]) for r in rows]

    def list(self, to: str | None = None) -> list[Summary]:
        """Every message, oldest first."""
        return self.page(to)

    def get(self, message_id: str) -> StoredMessage | None:
        if not _ID.match(message_id):
            return None
        path = self.folder / f"{message_id}.eml"
        try:
            return self._load(path)
        except FileNotFoundError:
            return None

    def clear(self) -> int:
        with self._lock:
            count = int(self._db.execute("SELECT count(*) FROM messages").fetchone()[0])
            self._db.execute("DELETE FROM messages")
            for path in self.folder.glob("*.eml"):
                path.unlink(missing_ok=True)
        return count

    def close(self) -> None:
        with self._lock:
            self._db.close()
