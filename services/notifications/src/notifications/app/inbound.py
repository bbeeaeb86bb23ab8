"""Replies by email: what is accepted at SMTP time, and how an accepted reply becomes a comment.

At SMTP time (RCPT, then DATA) a reply is matched to its case by its reply token, else by In-Reply-To/References to
a Message-ID we sent, and accepted only from the case owner (owner's side) or an agent (support's side). Anything
refused gets a clear reply code and is logged; nothing is stored before every check passed. Bounces, auto-replies
and bulk mail are accepted and dropped: never answered, never a comment. An accepted reply is stored whole; the
inbound loop then stores its attachments through the attachments service (its sniffing and limits; a refused part
becomes a note in the comment), asks cases to add its new text as a comment (the Message-ID is the idempotency key)
and each stored attachment to the case, records the original in the activity history, and answers a reply to a
closed case once.
"""

from __future__ import annotations

import hashlib
import html
import re
import uuid
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from typing import Any
from uuid import UUID

import asyncpg
import structlog
from mailparser_reply import EmailReplyParser

from notifications.adapters import case_projection, directory, inbound, outbox
from notifications.adapters.attachments_client import AttachmentsClient
from notifications.adapters.cases_client import CasesClient
from notifications.adapters.inbound import Received
from notifications.app.mailer import Mailer
from notifications.domain.replies import ReplyTokens, Side, is_automatic

log = structlog.get_logger("notifications.inbound")

MAX_COMMENT_CHARS = 20_000
SHORTENED = "\n\n[shortened: the whole email is in the case's activity history]"
KEPT_HEADERS = ("From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References")
_TAGS = re.compile(r"<[^>]+>")
_MESSAGE_IDS = re.compile(r"<[^<>\s]+>")
_REPLY_PARSER = EmailReplyParser(languages=["en", "de", "fr", "es", "it", "nl"])

ACCEPTED = "250 2.0.0 Thank you: your reply was received"
DROPPED = "250 2.0.0 Accepted (automatic message: not answered)"
NO_CASE = "550 5.1.1 No case found for this reply: reply to a case email, or open a new case in the portal"
FORGED_ADDRESS = "550 5.7.1 This reply address is not valid"
NOT_ALLOWED = "550 5.7.1 This sender may not reply to this case: reply from the address the case emails were sent to"
UNREADABLE = "550 5.6.0 The message could not be read (malformed or without text)"
SLOW_DOWN = "451 4.7.1 Too many messages from this sender: try again later"


@dataclass(frozen=True)
class InboundSettings:
    tokens: ReplyTokens
    support_mailbox: str  # the bare address support writes from: a reply to it is matched by its threading headers
    rate_per_hour: int


def new_text_of(text: str) -> str:
    """The reply's own words: quoted history and signature removed (mail-parser-reply, several languages)."""
    replies = _REPLY_PARSER.read(text=text).replies
    latest = replies[0].body.strip() if replies else text.strip()
    return latest[:MAX_COMMENT_CHARS] + SHORTENED if len(latest) > MAX_COMMENT_CHARS else latest


def _parse(raw: bytes) -> EmailMessage | None:
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        _ = [str(message.get(h, "")) for h in KEPT_HEADERS]  # header values that cannot be decoded fail here
        return message
    except Exception:  # any parser failure is the sender's malformed message, never a server error
        return None


def _bodies(message: EmailMessage) -> tuple[str, str] | None:
    try:
        plain, rich = message.get_body(("plain",)), message.get_body(("html",))
        text = plain.get_content() if plain is not None else None
        markup = rich.get_content() if rich is not None else ""
    except (LookupError, ValueError, UnicodeError, AttributeError):
        return None
    if text is None and markup:
        text = html.unescape(_TAGS.sub(" ", markup))
    if not text or not text.strip():
        return None
    return str(text), str(markup)


class InboundHandler:
    """aiosmtpd handler: the SMTP-time checks, and storing an accepted reply."""

    def __init__(self, pool: asyncpg.Pool, settings: InboundSettings) -> None:
        self.pool = pool
        self.settings = settings

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        tokens = self.settings.tokens
        if address.lower() == self.settings.support_mailbox.lower():
            envelope.rcpt_tos.append(address)
            return "250 2.1.5 OK"
        claim = tokens.claimed(address)
        if claim is None:
            log.warning("inbound_refused", reason="unknown recipient", rcpt=address)
            return "550 5.1.1 No such mailbox here"
        async with self.pool.acquire() as conn:
            case = await case_projection.get(conn, claim[1])
        if case is None or not tokens.verify(address, case.owner_id):
            log.warning("inbound_refused", reason="forged or unknown reply token", case_id=str(claim[1]))
            return FORGED_ADDRESS
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        try:
            return await self.receive(bytes(envelope.content), envelope.mail_from or "", list(envelope.rcpt_tos))
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("inbound_deferred", error=type(exc).__name__)
            return "451 4.3.0 Temporary failure: try again later"

    async def receive(self, raw: bytes, envelope_sender: str, recipients: list[str]) -> str:
        """The SMTP answer for one message; stores it when it is accepted."""
        message = _parse(raw)
        if message is None:
            log.warning("inbound_refused", reason="malformed", sender=envelope_sender)
            return UNREADABLE
        headers = {h: str(message[h]) for h in message if message[h] is not None}
        automatic = is_automatic(headers, envelope_sender)
        if automatic:
            log.info("inbound_dropped", reason=automatic, sender=envelope_sender)
            return DROPPED
        bodies = _bodies(message)
        if bodies is None:
            log.warning("inbound_refused", reason="no readable text", sender=envelope_sender)
            return UNREADABLE
        sender = parseaddr(headers.get("From", ""))[1]
        async with self.pool.acquire() as conn, conn.transaction():
            matched = await self._match(conn, recipients, headers)
            if matched is None:
                log.warning("inbound_refused", reason="no case", sender=sender)
                return NO_CASE
            side, case_id, to_address = matched
            author = await self._author(conn, side, case_id, sender)
            if author is None:
                log.warning("inbound_refused", reason="sender not allowed", sender=sender, case_id=str(case_id))
                return NOT_ALLOWED
            if await inbound.sent_last_hour(conn, sender) >= self.settings.rate_per_hour:
                log.warning("inbound_refused", reason="rate limited", sender=sender)
                return SLOW_DOWN
            text, markup = bodies
            message_id = headers.get("Message-ID") or f"<{hashlib.sha256(raw).hexdigest()}@inbound.casefold>"
            received = Received(
                id=uuid.uuid4(), message_id=message_id.strip(), case_id=case_id, author_id=author[0],
                author_role=author[1], from_address=sender, to_address=to_address,
                subject=headers.get("Subject", ""), headers={h: headers[h] for h in KEPT_HEADERS if h in headers},
                text_body=text, html_body=markup, new_text=new_text_of(text), raw=raw,
            )  # fmt: skip
            fresh = await inbound.insert(conn, received)
        log.info("inbound_accepted", case_id=str(case_id), duplicate=not fresh, author_role=author[1])
        return ACCEPTED

    async def _match(
        self, conn: asyncpg.Connection, recipients: list[str], headers: dict[str, str]
    ) -> tuple[Side, UUID, str] | None:
        """By the reply token first, else by the threading headers."""
        for rcpt in recipients:
            claim = self.settings.tokens.claimed(rcpt)
            if claim is not None:
                return claim[0], claim[1], rcpt
        ids = _MESSAGE_IDS.findall(headers.get("In-Reply-To", "") + " " + headers.get("References", ""))
        found = await outbox.case_of_messages(conn, ids) if ids else None
        if found is None:
            return None
        case_id, direction = found
        side: Side = "c" if direction == "outbound" else "a"
        return side, case_id, recipients[0] if recipients else self.settings.support_mailbox

    async def _author(
        self, conn: asyncpg.Connection, side: Side, case_id: UUID, sender: str
    ) -> tuple[UUID, str] | None:
        if not sender:
            return None
        if side == "a":
            agent = await directory.agent_by_email(conn, sender)
            return (agent.user_id, agent.role) if agent else None
        case = await case_projection.get(conn, case_id)
        owner = await directory.get(conn, case.owner_id) if case else None
        if owner is None or owner.disabled or owner.email.lower() != sender.lower():
            return None
        return owner.user_id, "customer"


# Ids of a reply's attachments: derived from its Message-ID and the part's position, so a retry names the same ones.
_ATTACHMENT_IDS = uuid.UUID("6f1c0d52-8f5e-4d8e-9a57-5c2b7f3e1a90")
REFUSED_ANSWERS = (413, 415, 422)


@dataclass(frozen=True)
class Part:
    index: int
    filename: str
    content_type: str
    content: bytes


def attachments_of(raw: bytes) -> list[Part]:
    """The attachment parts of a stored reply, in order (an unreadable message has none: its text was checked)."""
    message = _parse(raw) if raw else None
    if message is None:
        return []
    parts = []
    for index, part in enumerate(message.iter_attachments()):
        try:
            content = part.get_payload(decode=True)
        except (LookupError, ValueError):
            continue
        if isinstance(content, bytes):
            name = part.get_filename() or f"attachment-{index + 1}"
            parts.append(Part(index, name, part.get_content_type(), content))
    return parts


async def _store_attachments(attachments: AttachmentsClient, r: Received) -> tuple[list[str], list[str]]:
    """Each part stored for the reply's author: (receipts, notes on the parts the attachments rules refused)."""
    references, notes = [], []
    for part in attachments_of(r.raw):
        attachment_id = uuid.uuid5(_ATTACHMENT_IDS, f"{r.message_id}#{part.index}")
        answer = await attachments.store(attachment_id, r.author_id, r.author_role, r.case_id, part.filename,
                                         part.content_type, part.content)  # fmt: skip
        if answer.status in (200, 201):
            references.append(str(answer.body["reference"]))
        elif answer.status == 409 and "closed" in answer.detail.lower():
            break  # cases refuses the comment too, and the closed-case answer follows: no note, nothing stored
        elif answer.status in REFUSED_ANSWERS or (answer.status == 409 and "at most" in answer.detail):
            notes.append(f"[attachment {part.filename} was not accepted: {answer.detail}]")
        else:
            raise RuntimeError(f"attachments answered {answer.status}: {answer.detail}")
    return references, notes


def _comment_body(new_text: str, references: list[str], notes: list[str]) -> str:
    body = new_text or ("[attachments sent by email]" if references else "")
    return "\n\n".join([body, *notes]).strip()[: MAX_COMMENT_CHARS + len(SHORTENED) + 2000]


async def process(
    conn: asyncpg.Connection, cases: CasesClient, attachments: AttachmentsClient, mail: Mailer, received: Received
) -> str:
    """Turn one accepted reply into a comment and its attachments (or a refusal); returns its final status. Raises
    httpx.HTTPError when cases or attachments cannot be reached, and RuntimeError for an answer worth retrying (the
    caller retries both with backoff; every step is idempotent, so a retry repeats nothing)."""
    references, notes = await _store_attachments(attachments, received)
    body = _comment_body(received.new_text, references, notes)
    if not received.new_text and not references:
        await _record(conn, received)
        await inbound.finish(conn, received.id, "rejected", "no new text above the quoted history")
        return "rejected"
    answer = await cases.add_comment(received.case_id, received.author_id, received.author_role, body,
                                     received.message_id)  # fmt: skip
    if answer.status in (200, 201):
        status, error = "commented", None
        for reference in references:
            added = await cases.add_attachment(received.case_id, received.author_id, received.author_role, reference)
            if added.status >= 500 or added.status in (401, 403, 429):
                raise RuntimeError(f"cases answered {added.status} to an attachment: {added.detail}")
            if added.status not in (200, 201):
                log.warning("inbound_attachment_refused", case_id=str(received.case_id), error=added.detail)
    elif answer.status == 409 and (answer.problem == "case-closed" or "closed" in answer.detail.lower()):
        case = await case_projection.get(conn, received.case_id)
        if case is not None:
            await outbox.insert(conn, mail.closed_reply(received, case))
        status, error = "refused-closed", answer.detail
    elif answer.status in (404, 422) or (answer.status == 409 and answer.problem != "concurrent-change"):
        # A final no for this email (a full case, say): kept in the history, never retried. A concurrent change is
        # only a race with another writer, and is tried again.
        status, error = "rejected", answer.detail
    else:
        raise RuntimeError(f"cases answered {answer.status}: {answer.detail}")
    await _record(conn, received)
    await inbound.finish(conn, received.id, status, error)
    log.info("inbound_processed", case_id=str(received.case_id), status=status, error=error,
             attachments=len(references), refused_attachments=len(notes))  # fmt: skip
    return status


async def _record(conn: asyncpg.Connection, r: Received) -> None:
    """The original email in the case's activity history (an agent's reply is for agents only: it has their address)."""
    direction = "inbound" if r.author_role == "customer" else "internal"
    markup = r.html_body or f"<pre>{html.escape(r.text_body)}</pre>"
    to = ", ".join(a for _, a in getaddresses([r.to_address])) or r.to_address
    await outbox.record_received(conn, r.id, r.message_id, r.case_id, direction, r.from_address, to, r.subject,
                                 r.text_body, markup, r.headers, r.received_at)  # fmt: skip
