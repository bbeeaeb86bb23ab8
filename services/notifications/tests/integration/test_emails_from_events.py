"""Events in, exactly the expected emails out, over real Kafka, PostgreSQL and SMTP."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from notifications_builders import (
    SECRET_URL,
    account_email,
    attachment,
    case_opened,
    closed,
    comment,
    user_registered,
    wrap,
)
from notifications_harness import Harness

from notifications.adapters.templates import Renderer
from notifications.app.mailer import Mailer
from notifications.consumers import make_handler

pytestmark = pytest.mark.integration

SUPPORT = "support-team@casefold.local"


async def _customer(h: Harness, name: str = "Ada Lovelace") -> tuple[uuid.UUID, str]:
    user_id = uuid.uuid4()
    address = f"{user_id.hex[:10]}@customer.test"
    await h.publish(wrap(user_registered(user_id, address, name), user_id, stream_type="user"))
    return user_id, address


async def _settle(h: Harness, seconds: float = 0.8) -> None:
    """Give a wrong extra email the time to show up before asserting there is none."""
    await asyncio.sleep(seconds)


async def test_case_opened_sends_the_acknowledgement_to_the_owner(harness: Harness) -> None:
    owner, address = await _customer(harness)
    await harness.until(lambda: _known(harness, owner))
    case_id = uuid.uuid4()
    opened = wrap(case_opened(case_id, owner, number=1042), case_id)
    await harness.publish(opened)

    [ack] = await harness.delivered(1)
    await _settle(harness)

    assert len(harness.smtp.received) == 1
    assert ack["To"] == f"Ada Lovelace <{address}>"
    assert ack["From"] == "Casefold Support <support@casefold.local>"
    assert ack["Subject"] == "[Case 00001042] Login page is slow"
    assert ack["Message-ID"] == f"<{opened.event_id}.ack@casefold.local>"
    assert ack["In-Reply-To"] is None
    text = ack.get_body(("plain",))
    html = ack.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "00001042" in text.get_content()
    assert "What happens next" in text.get_content()
    assert "Severity: 3 (Minor)" in text.get_content()
    assert "Login page is slow" in html.get_content()
    assert "<td>3 (Minor)</td>" in html.get_content()
    [row] = await harness.settled(case_id)
    assert (row["status"], row["attempts"], row["direction"], row["kind"]) == ("sent", 1, "outbound", "ack")


async def test_a_prioritised_or_severity_1_case_alerts_the_support_address(harness: Harness) -> None:
    owner, address = await _customer(harness)
    prioritised, critical, minor = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await harness.publish(wrap(case_opened(prioritised, owner, 1, subject="Production Down now", prioritised=True,
                                           priority_rule="production-down"), prioritised))  # fmt: skip
    await harness.publish(wrap(case_opened(critical, owner, 2, severity=1), critical))
    await harness.publish(wrap(case_opened(minor, owner, 3, severity=3), minor))

    await harness.delivered(5)
    await _settle(harness)

    alerts = harness.smtp.to(SUPPORT)
    assert sorted(a["Subject"] for a in alerts) == [
        "[Case 00000001] Production Down now",
        "[Case 00000002] Login page is slow",
    ]
    assert len(harness.smtp.to(address)) == 3
    alert = next(a for a in alerts if "00000001" in a["Subject"])
    ack = next(m for m in harness.smtp.to(address) if "00000001" in m["Subject"])
    assert alert["In-Reply-To"] == ack["Message-ID"]
    assert "prioritised" in alert.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    critical_alert = next(a for a in alerts if "00000002" in a["Subject"])
    assert "Severity: 1 (Critical)" in critical_alert.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "&lt;b&gt;30 s&lt;/b&gt;" in alert.get_body(("html",)).get_content()  # type: ignore[union-attr]


async def test_comments_are_emailed_to_the_other_side_and_internal_ones_never(harness: Harness) -> None:
    owner, address = await _customer(harness)
    agent = uuid.uuid4()
    await harness.publish(wrap(user_registered(agent, "grace@casefold.local", "Grace", role="agent"), agent,
                               stream_type="user"))  # fmt: skip
    case_id = uuid.uuid4()
    opened = wrap(case_opened(case_id, owner, 77), case_id)
    await harness.publish(opened)
    await harness.publish(wrap(comment(case_id, agent, "agent", body="Please send logs"), case_id, 2))
    await harness.publish(wrap(comment(case_id, agent, "agent", internal=True, body="SECRET NOTE"), case_id, 3))
    await harness.publish(wrap(comment(case_id, owner, "customer", body="Here they are"), case_id, 4))

    await harness.delivered(3)
    await _settle(harness)

    assert len(harness.smtp.received) == 3
    ack, agent_comment = harness.smtp.of_kind(address, "ack"), harness.smtp.of_kind(address, "agent-comment")
    [customer_comment] = harness.smtp.to(SUPPORT)
    root = f"<{opened.event_id}.ack@casefold.local>"
    assert ack["Message-ID"] == root
    assert agent_comment["In-Reply-To"] == root
    assert agent_comment["References"] == root
    # Support's copy replies to the latest message of the thread, with the whole chain since the root.
    assert customer_comment["In-Reply-To"] == agent_comment["Message-ID"]
    assert customer_comment["References"] == f"{root} {agent_comment['Message-ID']}"
    for message in (agent_comment, customer_comment):
        assert message["Subject"] == "[Case 00000077] Login page is slow"
    assert "Please send logs" in agent_comment.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Grace" in agent_comment.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Here they are" in customer_comment.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert all("SECRET NOTE" not in m.as_string() for m in harness.smtp.received)
    kinds = [(r["kind"], r["direction"]) for r in await harness.emails(case_id)]
    assert kinds == [("ack", "outbound"), ("agent-comment", "outbound"), ("customer-comment", "inbound")]


async def test_attachment_notices_and_the_closing_confirmation(harness: Harness) -> None:
    owner, address = await _customer(harness)
    agent = uuid.uuid4()
    case_id = uuid.uuid4()
    await harness.publish(wrap(case_opened(case_id, owner, 5), case_id))
    await harness.publish(wrap(attachment(case_id, owner, "customer"), case_id, 2))
    await harness.publish(wrap(attachment(case_id, agent, "agent"), case_id, 3))
    await harness.publish(wrap(closed(case_id, owner), case_id, 4))

    await harness.delivered(4)
    await _settle(harness)

    to_customer = harness.smtp.to(address)
    [to_support] = harness.smtp.to(SUPPORT)
    assert len(to_customer) == 3
    assert "server.log (2.0 KB, text/plain)" in to_support.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    notice = harness.smtp.of_kind(address, "attachment")
    assert "server.log" in notice.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    closing = harness.smtp.of_kind(address, "closed").get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "closed" in closing
    assert "open a new case" in closing
    status = await harness.pool.fetchval("SELECT status FROM cases WHERE case_id = $1", case_id)
    assert status == "closed"


async def test_a_redelivered_event_never_sends_a_second_email(harness: Harness) -> None:
    owner, _ = await _customer(harness)
    case_id = uuid.uuid4()
    opened = wrap(case_opened(case_id, owner, 9), case_id)
    for _ in range(3):
        await harness.publish(opened)

    await harness.delivered(1)
    await _settle(harness, 1.5)

    assert len(harness.smtp.received) == 1
    assert len(await harness.emails(case_id)) == 1


async def test_the_outbox_refuses_a_second_email_for_the_same_event_even_past_the_inbox(harness: Harness) -> None:
    owner, _ = await _customer(harness)
    await harness.until(lambda: _known(harness, owner))
    case_id = uuid.uuid4()
    opened = wrap(case_opened(case_id, owner, 10), case_id)
    handle = make_handler(Mailer(Renderer(), "s@casefold.local", SUPPORT, "casefold.local", "http://p.test"))
    for _ in range(2):
        async with harness.pool.acquire() as conn, conn.transaction():
            await handle(conn, opened)

    await harness.delivered(1)
    await _settle(harness)
    assert len(await harness.emails(case_id)) == 1
    assert len(harness.smtp.received) == 1


async def test_an_email_for_an_owner_not_yet_known_waits_for_the_user_event(harness: Harness) -> None:
    owner = uuid.uuid4()
    case_id = uuid.uuid4()
    await harness.publish(wrap(case_opened(case_id, owner, 11), case_id))

    async def waiting() -> bool:
        return [r["status"] for r in await harness.emails(case_id)] == ["waiting"]

    await harness.until(waiting)
    await _settle(harness)
    assert harness.smtp.received == []

    address = f"{owner.hex[:10]}@late.test"
    await harness.publish(wrap(user_registered(owner, address, "Late Comer"), owner, stream_type="user"))
    [ack] = await harness.delivered(1)

    assert ack["To"] == f"Late Comer <{address}>"
    assert "Hello there" in ack.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    [row] = await harness.settled(case_id)
    assert row["status"] == "sent"
    assert row["to_address"] == f"Late Comer <{address}>"


async def test_account_emails_carry_the_link_which_is_masked_in_the_store_once_sent(harness: Harness) -> None:
    user_id = uuid.uuid4()
    command = wrap(account_email(user_id, "new@customer.test"), user_id, stream_type="mail")
    await harness.publish(command)

    [message] = await harness.delivered(1)

    assert SECRET_URL in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert message["Message-ID"] == f"<{command.event_id}.confirm-email@casefold.local>"

    async def masked() -> bool:
        rows = await harness.pool.fetch("SELECT text_body, html_body, secret, status FROM emails WHERE kind = $1 "
                                        "AND to_address LIKE '%new@customer.test%'", "confirm-email")  # fmt: skip
        return len(rows) == 1 and rows[0]["status"] == "sent"

    await harness.until(masked)
    row = await harness.pool.fetchrow("SELECT * FROM emails WHERE to_address LIKE '%new@customer.test%'")
    assert row is not None
    assert row["case_id"] is None
    assert row["secret"] is None
    assert "s3cr3t" not in row["text_body"]
    assert "s3cr3t" not in row["html_body"]
    assert "[link removed after delivery]" in row["text_body"]


async def test_a_password_reset_mail_is_sent_with_its_link_and_the_notice_without_one(harness: Harness) -> None:
    user_id = uuid.uuid4()
    to = f"reset-{user_id.hex[:8]}@customer.test"
    link = "https://portal.test/reset-password?token=r3s3t-t0ken"
    reset = wrap(account_email(user_id, to, link, "password-reset"), user_id, stream_type="mail")
    await harness.publish(reset)
    [message] = await harness.delivered(1)
    assert message["Subject"] == "Casefold: Reset your password"
    assert message["Message-ID"] == f"<{reset.event_id}.password-reset@casefold.local>"
    assert link in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f'href="{link}"' in message.get_body(("html",)).get_content()  # type: ignore[union-attr]

    await harness.publish(wrap(account_email(user_id, to, None, "password-reset-notice"), user_id, stream_type="mail"))
    [_, notice] = await harness.delivered(2)
    assert notice["Subject"] == "Casefold: Your password was reset"
    assert "was just reset" in notice.get_body(("plain",)).get_content()  # type: ignore[union-attr]


async def test_a_permanent_refusal_is_recorded_as_failed_without_retrying(harness: Harness) -> None:
    user_id = uuid.uuid4()
    await harness.publish(wrap(user_registered(user_id, f"bounce-{user_id.hex[:6]}@customer.test"), user_id,
                               stream_type="user"))  # fmt: skip
    case_id = uuid.uuid4()
    await harness.publish(wrap(case_opened(case_id, user_id, 12), case_id))

    async def failed() -> bool:
        return [r["status"] for r in await harness.emails(case_id)] == ["failed"]

    await harness.until(failed)
    [row] = await harness.emails(case_id)
    assert row["attempts"] == 1
    assert "550" in row["last_error"]
    assert harness.smtp.received == []


async def test_an_smtp_outage_delays_mail_and_loses_none(harness: Harness) -> None:
    harness.smtp.stop()
    owner, address = await _customer(harness)
    case_ids = [uuid.uuid4() for _ in range(3)]
    for n, case_id in enumerate(case_ids, start=100):
        await harness.publish(wrap(case_opened(case_id, owner, n, prioritised=n == 100), case_id))

    async def retrying() -> bool:
        rows = [r for c in case_ids for r in await harness.emails(c)]
        return len(rows) == 4 and all(r["status"] == "queued" and r["last_error"] for r in rows)

    await harness.until(retrying)
    harness.smtp.start()
    await harness.delivered(4)
    await _settle(harness, 1.5)

    assert len(harness.smtp.to(address)) == 3
    assert len(harness.smtp.to(SUPPORT)) == 1
    assert len({m["Message-ID"] for m in harness.smtp.received}) == 4
    rows = [r for c in case_ids for r in await harness.settled(c)]
    assert all(r["status"] == "sent" for r in rows)


async def _known(h: Harness, user_id: uuid.UUID) -> bool:
    return bool(await h.pool.fetchval("SELECT 1 FROM users WHERE user_id = $1", user_id))
