"""Outbound mail is never given up on: only a 5xx answer to the message fails it, and an operator can re-drive it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid

import pytest
from notifications_builders import account_email, case_opened, user_registered, wrap
from notifications_harness import Harness

from notifications.adapters import outbox
from notifications.adapters.templates import Renderer
from notifications.app.mailer import Mailer
from notifications.consumers import make_handler

pytestmark = pytest.mark.integration

OLD_MAX_ATTEMPTS = 10  # the attempt limit before this change: every queued email failed after it


async def _customer(h: Harness, address: str | None = None) -> tuple[uuid.UUID, str]:
    user_id = uuid.uuid4()
    address = address or f"{user_id.hex[:10]}@customer.test"
    await h.publish(wrap(user_registered(user_id, address, "Ada Lovelace"), user_id, stream_type="user"))
    await h.until(lambda: _known(h, user_id))
    return user_id, address


async def _known(h: Harness, user_id: uuid.UUID) -> bool:
    return bool(await h.pool.fetchval("SELECT 1 FROM users WHERE user_id = $1", user_id))


async def _open(h: Harness, owner: uuid.UUID, number: int) -> uuid.UUID:
    case_id = uuid.uuid4()
    await h.publish(wrap(case_opened(case_id, owner, number), case_id))
    return case_id


def _old_retry_budget(h: Harness) -> float:
    """How long the old code kept trying: OLD_MAX_ATTEMPTS attempts with the harness's doubling, capped delays."""
    s = h.settings
    return float(
        sum(min(s.retry_initial_seconds * 2 ** (n - 1), s.retry_max_seconds) for n in range(1, OLD_MAX_ATTEMPTS))
    )


async def test_an_outage_longer_than_the_old_retry_budget_delays_mail_and_loses_none(harness: Harness) -> None:
    owner, address = await _customer(harness)
    harness.smtp.stop()
    case_ids = [await _open(harness, owner, n) for n in range(200, 205)]

    async def all_queued() -> bool:
        rows = [r for c in case_ids for r in await harness.emails(c)]
        return len(rows) == 5 and all(r["last_error"] for r in rows)

    await harness.until(all_queued)
    await asyncio.sleep(_old_retry_budget(harness) + 1)
    rows = [r for c in case_ids for r in await harness.emails(c)]
    assert [r["status"] for r in rows] == ["queued"] * 5
    assert all(r["attempts"] == 0 for r in rows)  # never reaching the server is no attempt of the message

    harness.smtp.start()
    await harness.delivered(5)
    rows = [r for c in case_ids for r in await harness.settled(c)]
    await asyncio.sleep(0.8)  # time for a duplicate to show up
    assert [r["status"] for r in rows] == ["sent"] * 5
    assert len(harness.smtp.to(address)) == 5
    assert len({m["Message-ID"] for m in harness.smtp.received}) == 5


async def test_a_temporary_refusal_is_retried_past_the_old_attempt_limit(harness: Harness) -> None:
    owner, address = await _customer(harness)
    harness.smtp.tempfail[address] = OLD_MAX_ATTEMPTS + 1
    case_id = await _open(harness, owner, 210)

    [message] = await harness.delivered(1, seconds=60)
    [row] = await harness.settled(case_id)

    assert message["To"].addresses[0].addr_spec == address
    assert row["status"] == "sent"
    assert row["attempts"] == OLD_MAX_ATTEMPTS + 2


async def test_a_message_is_not_charged_for_the_connection_another_message_broke(harness: Harness) -> None:
    breaker, _ = await _customer(harness, f"hangup-{uuid.uuid4().hex[:6]}@customer.test")
    owner, _ = await _customer(harness)
    harness.smtp.stop()  # so that the three emails go out in one batch, the breaker's first
    broken = await _open(harness, breaker, 220)
    fine = [await _open(harness, owner, n) for n in (221, 222)]

    async def queued() -> bool:
        return len([r for c in [broken, *fine] for r in await harness.emails(c)]) == 3

    await harness.until(queued)
    harness.smtp.start()
    await harness.delivered(2)
    rows = [r for c in fine for r in await harness.settled(c)]

    assert [(r["status"], r["attempts"]) for r in rows] == [("sent", 1), ("sent", 1)]
    [broken_row] = await harness.emails(broken)
    assert broken_row["status"] == "queued"  # a broken connection is no final answer: it is tried again
    assert broken_row["attempts"] >= 1


async def test_an_email_queued_while_its_owner_registered_elsewhere_does_not_wait_for_ever(harness: Harness) -> None:
    """CaseOpened and the owner's UserRegistered handled at once by two workers: neither transaction sees the
    other's row, so the registration's release finds no waiting email; the delivery loop's sweep sends it."""
    owner = uuid.uuid4()
    address = f"{owner.hex[:10]}@race.test"
    case_id = uuid.uuid4()
    handle = make_handler(Mailer(Renderer(), "s@casefold.local", "team@casefold.local", "casefold.local", "http://p"))
    async with harness.pool.acquire() as opening, harness.pool.acquire() as registering:
        tx = opening.transaction()
        await tx.start()
        await handle(opening, wrap(case_opened(case_id, owner, 230), case_id))  # reads: owner unknown -> waiting
        async with registering.transaction():
            await handle(registering, wrap(user_registered(owner, address, "Late Comer"), owner, stream_type="user"))
        await tx.commit()

    [message] = await harness.delivered(1)
    [row] = await harness.settled(case_id)

    assert message["To"] == f"Late Comer <{address}>"
    assert row["status"] == "sent"


async def test_failed_emails_are_sent_again_by_the_redrive_command(harness: Harness) -> None:
    owner, address = await _customer(harness)
    harness.smtp.refused.add(address)
    case_id = await _open(harness, owner, 240)
    account = uuid.uuid4()
    await harness.publish(wrap(account_email(account, f"bounce-{account.hex[:6]}@customer.test"), account,
                               stream_type="mail"))  # fmt: skip

    async def both_failed() -> bool:
        rows = await harness.pool.fetch("SELECT status FROM emails WHERE case_id = $1 OR to_address LIKE $2",
                                        case_id, f"%bounce-{account.hex[:6]}%")  # fmt: skip
        return [r["status"] for r in rows] == ["failed", "failed"]

    await harness.until(both_failed)
    harness.smtp.refused.discard(address)
    [failed] = await harness.emails(case_id)

    result = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "notifications", "redrive", "--id", str(failed["id"])],
        env={**os.environ, "NOTIFICATIONS_DATABASE_URL": harness.settings.database_url,
             "NOTIFICATIONS_ENVIRONMENT": "test"},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "queued again: 1" in result.stdout

    [message] = await harness.delivered(1)
    [row] = await harness.settled(case_id)
    assert message["Message-ID"] == failed["message_id"]  # the same email, so a receiving system can tell
    assert row["status"] == "sent"


async def test_redrive_leaves_account_emails_whose_link_is_gone(harness: Harness) -> None:
    account = uuid.uuid4()
    to = f"bounce-{account.hex[:6]}@customer.test"
    await harness.publish(wrap(account_email(account, to), account, stream_type="mail"))

    async def failed() -> bool:
        status = await harness.pool.fetchval("SELECT status FROM emails WHERE to_address LIKE $1", f"%{to}%")
        return bool(status == "failed")

    await harness.until(failed)
    async with harness.pool.acquire() as conn:
        result = await outbox.redrive(conn, [], None)
    assert result.queued == []
    assert result.dead_links >= 1
    assert await harness.pool.fetchval("SELECT status FROM emails WHERE to_address LIKE $1", f"%{to}%") == "failed"
