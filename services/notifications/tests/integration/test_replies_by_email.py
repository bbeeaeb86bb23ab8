"""Replies by email over real SMTP (aiosmtplib to our listener, aiosmtpd back out), Kafka and PostgreSQL: a reply
becomes one comment; refusals are clear SMTP answers; automatic mail is never answered."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import aiosmtplib
import httpx
import pytest
import pytest_asyncio
from fake_cases import FakeCases
from fastapi import FastAPI
from notifications_builders import account_state, case_opened, user_registered, wrap
from notifications_harness import Harness, HarnessFactory

from attachments.adapters import repository as attachments_repository
from attachments.config import Settings as AttachmentsSettings
from attachments.main import create_app as attachments_app
from casefold_local.databases import create_database, drop_database
from casefold_local.procs import free_port
from casefold_platform.auth import JwksVerifier
from casefold_testing.tokens import TestTokenIssuer
from notifications.adapters import case_projection
from notifications.adapters.attachments_client import AttachmentsClient
from notifications.config import DEV_ATTACHMENTS_INTERNAL_API_KEY

pytestmark = pytest.mark.integration

QUOTED = """Thanks, restarting the worker fixed it.

Best regards,
Ada
--
Ada Lovelace, ACME Corp.

On Tue, 1 Dec 2026 at 10:00, Casefold Support <support@casefold.local> wrote:
> Please restart the export worker.
"""


@pytest_asyncio.fixture(loop_scope="session")
async def cases() -> FakeCases:
    return FakeCases()


@pytest_asyncio.fixture(loop_scope="session")
async def attachments(postgres_admin_dsn: str, tmp_path: Path) -> AsyncIterator[tuple[FastAPI, TestTokenIssuer]]:
    """The real attachments service (its own database and file store), called over ASGI."""
    dsn = await create_database(postgres_admin_dsn, "t_reply_attachments")
    settings = AttachmentsSettings(environment="test", database_url=dsn, storage_dir=str(tmp_path / "blobs"),
                                   storage_fsync=False, run_workers=False, max_file_bytes=50_000)  # fmt: skip
    issuer = TestTokenIssuer()
    app = attachments_app(settings, verifier=JwksVerifier.from_jwks(issuer.jwks()))
    try:
        async with app.router.lifespan_context(app):
            yield app, issuer
    finally:
        await drop_database(postgres_admin_dsn, dsn)


def _client_of(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://attachments.test")


@pytest_asyncio.fixture(loop_scope="session")
async def mailroom(
    harness_factory: HarnessFactory, cases: FakeCases, attachments: tuple[FastAPI, TestTokenIssuer]
) -> AsyncIterator[Harness]:
    store = AttachmentsClient("http://attachments.test", DEV_ATTACHMENTS_INTERNAL_API_KEY, _client_of(attachments[0]))
    async with harness_factory(cases.client(), attachments_client=store, inbound_smtp_port=free_port(),
                               inbound_rate_per_hour=5, inbound_max_bytes=200_000) as h:  # fmt: skip
        yield h


async def _case_with_ack(h: Harness, number: int) -> tuple[uuid.UUID, str, EmailMessage]:
    """A customer, their case, and the acknowledgement they received (its Reply-To is where they reply)."""
    owner = uuid.uuid4()
    address = f"{owner.hex[:10]}@customer.test"
    await h.publish(wrap(user_registered(owner, address, "Ada"), owner, stream_type="user"))
    case_id = uuid.uuid4()
    await h.publish(wrap(case_opened(case_id, owner, number), case_id))

    async def acked() -> bool:
        return any(address in str(m["To"]) for m in h.smtp.received)

    await h.until(acked)
    ack = next(m for m in h.smtp.received if address in str(m["To"]))
    return case_id, address, ack


def _reply(ack: EmailMessage, sender: str, text: str = QUOTED, **headers: str) -> EmailMessage:
    reply = EmailMessage()
    reply["From"] = f"Ada <{sender}>"
    reply["To"] = str(ack["Reply-To"])
    reply["Subject"] = f"Re: {ack['Subject']}"
    reply["Message-ID"] = make_msgid(domain="mail.customer.test")
    reply["In-Reply-To"] = str(ack["Message-ID"])
    reply["References"] = str(ack["Message-ID"])
    for name, value in headers.items():
        reply[name.replace("_", "-")] = value
    reply.set_content(text)
    return reply


async def _send(h: Harness, message: EmailMessage | bytes, sender: str, to: str | None = None) -> None:
    recipients = [to] if to else None
    port = h.settings.inbound_smtp_port
    if isinstance(message, bytes):
        await aiosmtplib.send(message, sender=sender, recipients=recipients or [], hostname="127.0.0.1", port=port)
    else:
        await aiosmtplib.send(message, sender=sender, recipients=recipients, hostname="127.0.0.1", port=port)


async def _settled(h: Harness) -> None:
    async def done() -> bool:
        return not await h.pool.fetchval("SELECT count(*) FROM inbound_emails WHERE status = 'pending'")

    await h.until(done)


async def test_a_reply_by_email_becomes_a_comment_with_its_new_text_only(mailroom: Harness, cases: FakeCases) -> None:
    case_id, address, ack = await _case_with_ack(mailroom, 300)
    assert "support+c" in str(ack["Reply-To"])

    reply = _reply(ack, address)
    await _send(mailroom, reply, address)
    await _settled(mailroom)

    [comment] = [c for c in cases.comments if c["case_id"] == str(case_id)]
    assert comment["body"] == "Thanks, restarting the worker fixed it."
    assert comment["author_role"] == "customer"
    assert comment["inbound_message_id"] == reply["Message-ID"]
    owner = mailroom.auth(uuid.UUID(comment["author_id"]))
    history = (await mailroom.http.get(f"/api/notifications/cases/{case_id}/activity", headers=owner)).json()
    entry = history[-1]
    assert (entry["kind"], entry["label"], entry["direction"]) == ("inbound-reply", "Your reply by email", "inbound")
    full = (await mailroom.http.get(f"/api/notifications/messages/{entry['id']}", headers=owner)).json()
    assert "Please restart the export worker." in full["text"]  # the original stays whole
    assert full["headers"]["Message-ID"] == reply["Message-ID"]


async def test_the_same_email_delivered_twice_is_one_comment(mailroom: Harness, cases: FakeCases) -> None:
    case_id, address, ack = await _case_with_ack(mailroom, 301)
    reply = _reply(ack, address, "Second try worked.")

    await _send(mailroom, reply, address)
    await _send(mailroom, reply, address)
    await _settled(mailroom)

    assert [c["body"] for c in cases.comments if c["case_id"] == str(case_id)] == ["Second try worked."]
    rows = await mailroom.pool.fetch("SELECT id FROM inbound_emails WHERE case_id = $1", case_id)
    assert len(rows) == 1


async def test_a_reply_without_the_token_is_matched_by_its_threading_headers(
    mailroom: Harness, cases: FakeCases
) -> None:
    case_id, address, ack = await _case_with_ack(mailroom, 302)
    reply = _reply(ack, address, "Replying to the From address.")
    reply.replace_header("To", "support@casefold.local")

    await _send(mailroom, reply, address, to="support@casefold.local")
    await _settled(mailroom)

    assert [c["body"] for c in cases.comments if c["case_id"] == str(case_id)] == ["Replying to the From address."]


async def test_a_reply_to_a_closed_case_gets_one_automatic_answer_and_adds_nothing(
    mailroom: Harness, cases: FakeCases
) -> None:
    case_id, address, ack = await _case_with_ack(mailroom, 303)
    cases.closed.add(case_id)
    before = len(mailroom.smtp.to(address))

    reply = _reply(ack, address, "Is this still open?")
    await _send(mailroom, reply, address)
    await _send(mailroom, reply, address)  # delivered twice: still one answer
    await _settled(mailroom)
    [answer] = (await mailroom.delivered(before + 1))[-1:]

    assert [c for c in cases.comments if c["case_id"] == str(case_id)] == []
    assert answer["Auto-Submitted"] == "auto-replied"
    assert answer["In-Reply-To"] == reply["Message-ID"]
    text = answer.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "is closed" in text
    assert "/cases/new?refers_to=00000303" in text
    assert len(mailroom.smtp.to(address)) == before + 1
    status = await mailroom.pool.fetchval("SELECT status FROM inbound_emails WHERE case_id = $1", case_id)
    assert status == "refused-closed"


async def test_a_forged_token_and_a_stranger_are_refused_at_smtp_time(mailroom: Harness, cases: FakeCases) -> None:
    case_id, address, ack = await _case_with_ack(mailroom, 304)
    genuine = str(ack["Reply-To"]).split("<")[-1].rstrip(">")
    local, _, domain = genuine.partition("@")
    forged = f"{local[:-3]}{'aaa' if local[-3:] != 'aaa' else 'bbb'}@{domain}"

    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        await _send(mailroom, _reply(ack, address), address, to=forged)
    with pytest.raises(aiosmtplib.SMTPDataError) as stranger:
        await _send(mailroom, _reply(ack, "mallory@evil.test"), "mallory@evil.test")

    assert refused.value.recipients[0].code == 550
    assert stranger.value.code == 550
    assert "may not reply" in stranger.value.message
    assert await mailroom.pool.fetchval("SELECT count(*) FROM inbound_emails WHERE case_id = $1", case_id) == 0


async def test_out_of_office_bounces_and_bulk_mail_are_never_answered(mailroom: Harness, cases: FakeCases) -> None:
    case_id, address, ack = await _case_with_ack(mailroom, 305)
    before = len(mailroom.smtp.received)

    await _send(mailroom, _reply(ack, address, "I am out of office.", Auto_Submitted="auto-replied"), address)
    await _send(mailroom, _reply(ack, address, "Weekly digest", Precedence="bulk"), address)
    await _send(mailroom, _reply(ack, address, "Delivery failed"), "")  # a bounce: null sender

    assert await mailroom.pool.fetchval("SELECT count(*) FROM inbound_emails WHERE case_id = $1", case_id) == 0
    assert [c for c in cases.comments if c["case_id"] == str(case_id)] == []
    assert len(mailroom.smtp.received) == before


async def test_malformed_mail_and_mail_without_text_write_nothing(mailroom: Harness) -> None:
    case_id, address, ack = await _case_with_ack(mailroom, 306)
    to = str(ack["Reply-To"]).split("<")[-1].rstrip(">")
    no_text = (f"From: {address}\r\nTo: {to}\r\nSubject: x\r\nMessage-ID: <x-{case_id}@t>\r\n"
               "Content-Type: application/octet-stream\r\n\r\nAAAA\r\n").encode()  # fmt: skip

    with pytest.raises(aiosmtplib.SMTPDataError) as unreadable:
        await _send(mailroom, no_text, address, to=to)

    assert unreadable.value.code == 550
    assert await mailroom.pool.fetchval("SELECT count(*) FROM inbound_emails WHERE case_id = $1", case_id) == 0


async def test_a_sender_is_rate_limited_and_a_huge_message_refused(mailroom: Harness) -> None:
    _, address, ack = await _case_with_ack(mailroom, 307)
    for n in range(5):
        await _send(mailroom, _reply(ack, address, f"Update {n}"), address)

    with pytest.raises(aiosmtplib.SMTPDataError) as limited:
        await _send(mailroom, _reply(ack, address, "One too many"), address)
    with pytest.raises(aiosmtplib.SMTPResponseException) as huge:
        await _send(mailroom, _reply(ack, f"other-{address}", "x" * 300_000), f"other-{address}")

    assert limited.value.code == 451
    assert huge.value.code == 552


async def test_an_agent_answers_the_support_copy_by_email(mailroom: Harness, cases: FakeCases) -> None:
    case_id, _, _ = await _case_with_ack(mailroom, 308)
    agent = uuid.uuid4()
    await mailroom.publish(wrap(user_registered(agent, "grace@casefold.local", "Grace", role="agent"), agent,
                                stream_type="user"))  # fmt: skip

    async def known() -> bool:
        return bool(await mailroom.pool.fetchval("SELECT 1 FROM users WHERE user_id = $1", agent))

    await mailroom.until(known)
    await mailroom.pool.execute("UPDATE users SET verified = true WHERE user_id = $1", agent)  # as EmailConfirmed does
    support_side = mailroom.app.state.worker.inbound.mail.replies.address("a", case_id)

    reply = EmailMessage()
    reply["From"] = "Grace <grace@casefold.local>"
    reply["To"] = support_side
    reply["Subject"] = "Re: [Case 00000308] Login page is slow"
    reply["Message-ID"] = make_msgid(domain="casefold.local")
    reply.set_content("We deployed a fix; please try again.")
    await _send(mailroom, reply, "grace@casefold.local")
    await _settled(mailroom)

    [comment] = [c for c in cases.comments if c["case_id"] == str(case_id)]
    assert (comment["author_id"], comment["author_role"]) == (str(agent), "agent")
    direction = await mailroom.pool.fetchval("SELECT direction FROM emails WHERE message_id = $1", reply["Message-ID"])
    assert direction == "internal"  # the agent's own email (their address) is never shown to the customer


async def test_a_disabled_customer_or_agent_may_not_reply_by_email(mailroom: Harness, cases: FakeCases) -> None:
    case_id, address, ack = await _case_with_ack(mailroom, 309)
    owner = await mailroom.pool.fetchval("SELECT owner_id FROM cases WHERE case_id = $1", case_id)
    agent = uuid.uuid4()
    await mailroom.publish(wrap(user_registered(agent, "linus@casefold.local", "Linus", role="agent"), agent,
                                stream_type="user"))  # fmt: skip
    await mailroom.publish(account_state(owner, 2, disabled=True))
    await mailroom.publish(account_state(agent, 2, disabled=True))

    async def both_disabled() -> bool:
        disabled = await mailroom.pool.fetchval("SELECT count(*) FROM users WHERE user_id = ANY($1) AND disabled",
                                                [owner, agent])  # fmt: skip
        return bool(disabled == 2)

    await mailroom.until(both_disabled)
    await mailroom.pool.execute("UPDATE users SET verified = true WHERE user_id = $1", agent)  # as EmailConfirmed does
    agent_reply = EmailMessage()
    agent_reply["From"] = "Linus <linus@casefold.local>"
    agent_reply["To"] = mailroom.app.state.worker.inbound.mail.replies.address("a", case_id)
    agent_reply["Subject"] = "Re: [Case 00000309] Login page is slow"
    agent_reply["Message-ID"] = make_msgid(domain="casefold.local")
    agent_reply.set_content("Closing this one.")

    with pytest.raises(aiosmtplib.SMTPDataError) as customer:
        await _send(mailroom, _reply(ack, address), address)
    with pytest.raises(aiosmtplib.SMTPDataError) as former_agent:
        await _send(mailroom, agent_reply, "linus@casefold.local")

    assert customer.value.code == former_agent.value.code == 550
    assert "may not reply" in former_agent.value.message
    assert await mailroom.pool.fetchval("SELECT count(*) FROM inbound_emails WHERE case_id = $1", case_id) == 0
    assert [c for c in cases.comments if c["case_id"] == str(case_id)] == []


LOG = b"2026-12-01T10:00:00Z ERROR export worker stopped\n" * 40


async def _known_to_attachments(h: Harness, attachments: tuple[FastAPI, TestTokenIssuer], case_id: uuid.UUID) -> None:
    """The case as attachments' own consumer of CaseOpened records it (its per-case limits are checked there)."""
    async with h.pool.acquire() as conn:
        case = await case_projection.get(conn, case_id)
    assert case is not None
    async with attachments[0].state.pool.acquire() as conn:
        await attachments_repository.case_opened(conn, case_id, case.owner_id)


async def test_a_text_attachment_of_a_reply_is_added_to_the_case_once_and_downloads_intact(
    mailroom: Harness, cases: FakeCases, attachments: tuple[FastAPI, TestTokenIssuer]
) -> None:
    case_id, address, ack = await _case_with_ack(mailroom, 309)
    await _known_to_attachments(mailroom, attachments, case_id)
    reply = _reply(ack, address, "The log is attached.")
    reply.add_attachment(LOG, maintype="text", subtype="plain", filename="worker.log")

    await _send(mailroom, reply, address)
    await _send(mailroom, reply, address)  # delivered twice: one comment, one attachment
    await _settled(mailroom)

    [comment] = [c for c in cases.comments if c["case_id"] == str(case_id)]
    assert comment["body"] == "The log is attached."
    [added] = [a for a in cases.attachments if a["case_id"] == str(case_id)]
    assert (added["filename"], added["added_by"]) == ("worker.log", comment["author_id"])
    app, issuer = attachments
    author = issuer.auth_header(user_id=uuid.UUID(comment["author_id"]), role="customer")
    async with _client_of(app) as client:
        download = await client.get(f"/api/attachments/{added['id']}", headers=author)
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == added["sha256"] == hashlib.sha256(LOG).hexdigest()


async def test_a_refused_attachment_is_a_note_in_the_comment_and_the_rest_is_kept(
    mailroom: Harness, cases: FakeCases, attachments: tuple[FastAPI, TestTokenIssuer]
) -> None:
    case_id, address, ack = await _case_with_ack(mailroom, 310)
    await _known_to_attachments(mailroom, attachments, case_id)
    reply = _reply(ack, address, "Two files.")
    reply.add_attachment(b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120, maintype="application",
                         subtype="octet-stream", filename="tool.exe")  # fmt: skip
    reply.add_attachment(b"y" * 60_000, maintype="text", subtype="plain", filename="huge.log")
    reply.add_attachment(LOG, maintype="text", subtype="plain", filename="worker.log")

    await _send(mailroom, reply, address)
    await _settled(mailroom)

    [comment] = [c for c in cases.comments if c["case_id"] == str(case_id)]
    assert comment["body"].startswith("Two files.")
    assert "attachment tool.exe was not accepted:" in comment["body"]
    assert "attachment huge.log was not accepted:" in comment["body"]
    assert [a["filename"] for a in cases.attachments if a["case_id"] == str(case_id)] == ["worker.log"]


async def test_a_reply_with_an_attachment_to_a_closed_case_is_answered_once_and_stores_nothing(
    mailroom: Harness, cases: FakeCases, attachments: tuple[FastAPI, TestTokenIssuer]
) -> None:
    case_id, address, ack = await _case_with_ack(mailroom, 311)
    await _known_to_attachments(mailroom, attachments, case_id)
    async with attachments[0].state.pool.acquire() as conn:
        await attachments_repository.case_closed(conn, case_id)
    cases.closed.add(case_id)
    before = len(mailroom.smtp.to(address))
    reply = _reply(ack, address, "One more log.")
    reply.add_attachment(LOG, maintype="text", subtype="plain", filename="worker.log")

    await _send(mailroom, reply, address)
    await _settled(mailroom)
    await mailroom.delivered(before + 1)

    assert [a for a in cases.attachments if a["case_id"] == str(case_id)] == []
    assert len(mailroom.smtp.to(address)) == before + 1
    status = await mailroom.pool.fetchval("SELECT status FROM inbound_emails WHERE case_id = $1", case_id)
    assert status == "refused-closed"


async def test_a_reply_to_a_full_case_is_kept_in_the_history_and_not_retried(
    mailroom: Harness, cases: FakeCases
) -> None:
    case_id, address, ack = await _case_with_ack(mailroom, 309)
    cases.full.add(case_id)
    calls = cases.calls

    reply = _reply(ack, address, "One more thing.")
    await _send(mailroom, reply, address)
    await _settled(mailroom)

    row = await mailroom.pool.fetchrow("SELECT status, last_error, attempts FROM inbound_emails WHERE case_id = $1",
                                       case_id)  # fmt: skip
    assert row is not None
    assert (row["status"], row["attempts"]) == ("rejected", 0)
    assert "limit" in row["last_error"]
    assert cases.calls == calls + 1  # a final answer: asked once
    assert await mailroom.pool.fetchval("SELECT kind FROM emails WHERE message_id = $1", reply["Message-ID"]) == (
        "inbound-reply"
    )
