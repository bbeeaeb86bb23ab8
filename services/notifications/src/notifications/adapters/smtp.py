"""Sending over SMTP with aiosmtplib: one kept-alive connection per sender, each message's outcome classified for
the outbox.

Outcomes: "sent"; "failed" (a 5xx answer to this message: the server's final word); "retry" (a 4xx answer to this
message, or the connection broke while this message was on the wire); "untried" (the message never reached the
server because the connection could not be had or broke on another message: it is not charged for that).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import aiosmtplib

from notifications.adapters.mime import Outgoing
from notifications.domain.emails import is_permanent


@dataclass(frozen=True)
class Outcome:
    result: Literal["sent", "retry", "failed", "untried"]
    error: str | None = None
    started_ns: int = 0
    ended_ns: int = 0


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0
    ca_file: str | None = None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


def _refusal(exc: aiosmtplib.SMTPException) -> Outcome:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [error.code for error in exc.recipients]
        final = bool(codes) and all(is_permanent(code) for code in codes)
        return Outcome("failed" if final else "retry", _describe(exc))
    if isinstance(exc, aiosmtplib.SMTPResponseException) and is_permanent(exc.code):
        return Outcome("failed", _describe(exc))
    return Outcome("retry", _describe(exc))


class SmtpSender:
    """Sends batches of messages over a kept-alive connection; reports an Outcome per message, never raises for a
    delivery problem. Used by one delivery lane at a time (not safe for concurrent sends)."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._conn: aiosmtplib.SMTP | None = None
        self._last_used = 0.0

    def _client(self) -> aiosmtplib.SMTP:
        c = self.config
        return aiosmtplib.SMTP(
            hostname=c.host, port=c.port, start_tls=c.starttls, username=c.username, password=c.password,
            timeout=c.timeout, cert_bundle=c.ca_file,
        )  # fmt: skip

    async def _open(self) -> str | None:
        """Connect (and STARTTLS, and log in); the error when that failed."""
        client = self._client()
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            # Down, unreachable or refusing our login: a matter of time or configuration, never a reason to drop mail.
            return _describe(exc)
        self._conn = client
        return None

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and conn.is_connected:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                await conn.quit()

    async def close_if_idle(self, idle_seconds: float) -> None:
        if self._conn is not None and time.monotonic() - self._last_used >= idle_seconds:
            await self.close()

    async def send(self, messages: Sequence[Outgoing]) -> list[Outcome]:
        # A kept-alive connection may have been closed by the server meanwhile: then one fresh connection is tried.
        may_reconnect = self._conn is not None and self._conn.is_connected
        if not may_reconnect:
            await self.close()
            error = await self._open()
            if error is not None:
                return [Outcome("untried", error)] * len(messages)
        outcomes: list[Outcome] = []
        while len(outcomes) < len(messages) and self._conn is not None:
            message = messages[len(outcomes)]
            started = time.time_ns()
            try:
                await self._conn.sendmail(message.sender, message.recipients, message.data)
                outcomes.append(Outcome("sent", None, started, time.time_ns()))
            except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPResponseException) as exc:
                outcomes.append(_refusal(exc))
                if not self._conn.is_connected:
                    await self.close()
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                await self.close()
                if may_reconnect:
                    may_reconnect = False
                    if await self._open() is None:
                        continue
                # The connection is gone: this message and the rest of the batch wait for the next round.
                outcomes.append(Outcome("retry", _describe(exc)))
        self._last_used = time.monotonic()
        missing = len(messages) - len(outcomes)
        return outcomes + [Outcome("untried", "connection lost before sending")] * missing
