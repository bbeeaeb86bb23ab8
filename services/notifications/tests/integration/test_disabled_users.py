"""Disabled accounts (UserDisabled / UserEnabled of identity.events.v1) over real Kafka, PostgreSQL and SMTP: agent
mail for a disabled agent goes to the support address, and so does what was still queued for them (or for an agent
whose role is revoked); case mail to a disabled customer is withheld (kept in the history, never sent); enabling
the account again lets mail flow; the backfill replays who is disabled."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from notifications_builders import account_state, case_opened, closed, comment, sla_signal, wrap
from notifications_harness import Harness

from casefold_events.contracts import RoleGranted
from casefold_events.envelope import encode, kafka_headers
from notifications.app.mailer import DISABLED_RECIPIENT
from notifications.backfill import backfill_disabled_users
from notifications.config import Settings

pytestmark = pytest.mark.integration

SUPPORT = "support-team@casefold.local"


async def _disabled_is(h: Harness, user_id: uuid.UUID, disabled: bool) -> bool:
    return await h.pool.fetchval("SELECT disabled FROM users WHERE user_id = $1", user_id) is disabled


async def _set_disabled(h: Harness, user_id: uuid.UUID, version: int, *, disabled: bool) -> None:
    # Another topic than the cases' events: wait until the directory has it before a case event names the user.
    await h.publish(account_state(user_id, version, disabled=disabled))
    await h.until(lambda: _disabled_is(h, user_id, disabled))


def _text(message: object) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[attr-defined, no-any-return]


async def test_sla_mail_for_a_disabled_agent_goes_to_the_support_address_until_enabled(harness: Harness) -> None:
    owner, _ = await harness.registered("Ada", "customer")
    agent, agent_address = await harness.registered("Grace Hopper", "agent")
    case_id = uuid.uuid4()
    await harness.publish(wrap(case_opened(case_id, owner, 601), case_id))
    await _set_disabled(harness, agent, 2, disabled=True)

    await harness.publish(wrap(sla_signal(case_id, "warning", assignee=agent), case_id, 2))
    await harness.delivered(2)  # the acknowledgement and the warning
    await harness.settled(case_id)

    assert harness.smtp.to(agent_address) == []
    [warning] = harness.smtp.to(SUPPORT)
    assert "Grace Hopper (account disabled: the case counts as unassigned)" in _text(warning)

    await _set_disabled(harness, agent, 3, disabled=False)
    await harness.publish(wrap(sla_signal(case_id, "breached", assignee=agent), case_id, 3))
    await harness.delivered(3)
    await harness.settled(case_id)

    [breach] = harness.smtp.to(agent_address)
    assert breach["To"] == f"Grace Hopper <{agent_address}>"
    assert "BREACHED" in _text(breach)
    assert len(harness.smtp.to(SUPPORT)) == 1


async def test_case_mail_to_a_disabled_customer_is_withheld_and_shown_so_to_agents(harness: Harness) -> None:
    owner, owner_address = await harness.registered("Ada", "customer")
    agent, _ = await harness.registered("Grace", "agent")
    case_id = uuid.uuid4()
    await harness.publish(wrap(case_opened(case_id, owner, 602), case_id))
    await harness.delivered(1)
    await _set_disabled(harness, owner, 2, disabled=True)

    await harness.publish(wrap(comment(case_id, agent), case_id, 2))
    await harness.until(lambda: _emails_of(harness, case_id, 2))
    await _set_disabled(harness, owner, 3, disabled=False)
    await harness.publish(wrap(closed(case_id, agent), case_id, 3))
    await harness.delivered(2)
    rows = await harness.settled(case_id)

    assert [(r["kind"], r["status"], r["last_error"]) for r in rows] == [
        ("ack", "sent", None),
        ("agent-comment", "withheld", DISABLED_RECIPIENT),
        ("closed", "sent", None),
    ]
    assert [m["Message-ID"] for m in harness.smtp.to(owner_address)] == [rows[0]["message_id"], rows[2]["message_id"]]
    answer = await harness.http.get(f"/api/notifications/cases/{case_id}/activity",
                                    headers=harness.auth(agent, role="agent"))  # fmt: skip
    assert [(e["kind"], e["status"]) for e in answer.json()] == [
        ("ack", "sent"), ("agent-comment", "withheld"), ("closed", "sent"),
    ]  # fmt: skip
    message = await harness.http.get(f"/api/notifications/messages/{rows[1]['id']}",
                                     headers=harness.auth(agent, role="agent"))  # fmt: skip
    assert (message.json()["status"], message.json()["last_error"]) == ("withheld", DISABLED_RECIPIENT)


async def test_mail_queued_for_a_customer_when_they_are_disabled_is_withheld(harness: Harness) -> None:
    owner, owner_address = await harness.registered("Ada", "customer")
    harness.smtp.tempfail[owner_address] = 10_000  # the acknowledgement stays queued, retried
    case_id = uuid.uuid4()
    await harness.publish(wrap(case_opened(case_id, owner, 603), case_id))

    async def tried() -> bool:
        return any(r["attempts"] > 0 for r in await harness.emails(case_id))

    await harness.until(tried)
    await _set_disabled(harness, owner, 2, disabled=True)
    harness.smtp.tempfail.clear()
    rows = await harness.settled(case_id)

    assert [(r["kind"], r["status"], r["last_error"]) for r in rows] == [("ack", "withheld", DISABLED_RECIPIENT)]
    assert harness.smtp.to(owner_address) == []


@pytest.mark.parametrize("change", ["disabled", "role revoked"])
async def test_mail_queued_for_an_agent_who_stops_being_one_goes_to_the_support_address(
    harness: Harness, change: str
) -> None:
    owner, _ = await harness.registered("Ada", "customer")
    agent, agent_address = await harness.registered("Grace Hopper", "agent")
    harness.smtp.tempfail[agent_address] = 10_000  # the warning stays queued, retried, for as long as the test runs
    case_id = uuid.uuid4()
    await harness.publish(wrap(case_opened(case_id, owner, 604), case_id))
    await harness.publish(wrap(sla_signal(case_id, "warning", assignee=agent), case_id, 2))

    async def tried() -> bool:
        return any(r["kind"] == "sla-warning" and r["attempts"] > 0 for r in await harness.emails(case_id))

    await harness.until(tried)
    if change == "disabled":
        await _set_disabled(harness, agent, 2, disabled=True)
    else:
        await harness.publish(wrap(RoleGranted(user_id=agent, role="customer"), agent, 2, stream_type="user"))
    rows = await harness.settled(case_id)

    [warning] = [r for r in rows if r["kind"] == "sla-warning"]
    assert (warning["status"], warning["to_address"], warning["agent_user_id"]) == ("sent", SUPPORT, None)
    assert harness.smtp.to(agent_address) == []
    [received] = harness.smtp.to(SUPPORT)
    assert (received["Message-ID"], received["To"]) == (warning["message_id"], SUPPORT)
    assert "Grace Hopper" in _text(received)  # the body as written: the team sees whose case it was


async def test_agent_mail_is_sent_to_the_agent_and_remembers_them_until_it_is(harness: Harness) -> None:
    owner, _ = await harness.registered("Ada", "customer")
    agent, agent_address = await harness.registered("Grace Hopper", "agent")
    case_id = uuid.uuid4()
    await harness.publish(wrap(case_opened(case_id, owner, 605), case_id))
    await harness.publish(wrap(sla_signal(case_id, "warning", assignee=agent), case_id, 2))
    await harness.delivered(2)
    rows = await harness.settled(case_id)

    assert [(r["kind"], r["agent_user_id"]) for r in rows] == [("ack", None), ("sla-warning", agent)]
    assert [m["To"] for m in harness.smtp.to(agent_address)] == [f"Grace Hopper <{agent_address}>"]
    assert harness.smtp.to(SUPPORT) == []


async def _emails_of(h: Harness, case_id: uuid.UUID, count: int) -> bool:
    return len(await h.emails(case_id)) >= count


async def test_the_backfill_marks_who_is_disabled_and_never_undoes_a_later_change(
    migrated: str, kafka_bootstrap: str, topic_factory: object, producer: AIOKafkaProducer
) -> None:
    topic = await topic_factory("identity", partitions=2)  # type: ignore[operator]
    settings = Settings(environment="test", database_url=migrated, kafka_bootstrap_servers=kafka_bootstrap,
                        identity_topic=topic)  # fmt: skip
    still, again, later = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    pool = await asyncpg.create_pool(migrated, min_size=1, max_size=2)
    try:
        for user in (still, again, later):  # as a directory projected before migration 0005 has them
            await pool.execute("INSERT INTO users (user_id, email, display_name, role) VALUES ($1, $2, 'U', 'agent')",
                               user, f"{user.hex[:10]}@casefold.local")  # fmt: skip
        # `later` was enabled again at version 4 by a running worker, after the backfill's events were published.
        await pool.execute("UPDATE users SET disabled_version = 4 WHERE user_id = $1", later)
        events = [
            account_state(still, 2, disabled=True),
            account_state(again, 2, disabled=True),
            account_state(again, 3, disabled=False),
            account_state(later, 3, disabled=True),
        ]
        for envelope in events:
            await producer.send_and_wait(topic, encode(envelope), key=envelope.stream_id.encode(),
                                         headers=kafka_headers(envelope))  # fmt: skip
        await producer.send_and_wait(topic, b"not an envelope", key=b"poison")

        # Mail queued for them while the directory thought them enabled: to each as a customer and as an agent.
        queued = {(user, kind): await _queued_email(pool, user, as_agent=kind == "internal")
                  for user in (still, later) for kind in ("outbound", "internal")}  # fmt: skip

        first = await backfill_disabled_users(settings, pool, poll_ms=200)
        second = await backfill_disabled_users(settings, pool, poll_ms=200)

        flags = dict(await pool.fetch("SELECT user_id, disabled FROM users WHERE user_id = ANY($1)",
                                      [still, again, later]))  # fmt: skip
        assert flags == {still: True, again: False, later: False}
        assert (first.partitions, first.events, first.changed) == (2, 4, 3)
        assert (second.events, second.changed) == (4, 0)
        state = "SELECT status, to_address, headers ->> 'To' FROM emails WHERE id = $1"
        mail = {key: tuple(await pool.fetchrow(state, email_id)) for key, email_id in queued.items()}
        assert mail == {
            (still, "outbound"): ("withheld", f"{still.hex[:10]}@casefold.local", f"{still.hex[:10]}@casefold.local"),
            (still, "internal"): ("queued", SUPPORT, SUPPORT),
            (later, "outbound"): ("queued", f"{later.hex[:10]}@casefold.local", f"{later.hex[:10]}@casefold.local"),
            (later, "internal"): ("queued", f"{later.hex[:10]}@casefold.local", f"{later.hex[:10]}@casefold.local"),
        }
    finally:
        await pool.close()


async def _queued_email(pool: asyncpg.Pool, user: uuid.UUID, *, as_agent: bool) -> uuid.UUID:
    """A queued email to this user's address: internal mail to them as the agent, or outbound to them as the owner."""
    email_id, address = uuid.uuid4(), f"{user.hex[:10]}@casefold.local"
    await pool.execute(
        """INSERT INTO emails (id, message_id, case_id, kind, direction, recipient_user_id, agent_user_id, from_address,
                               to_address, subject, text_body, html_body, headers, status)
           VALUES ($1::uuid, $1::uuid::text || '@casefold.local', gen_random_uuid(), $2, $3, $4, $5,
                   'support@casefold.local', $6,
                   'Case update', 'text', '<p>html</p>', jsonb_build_object('To', $6::text), 'queued')""",
        email_id, "sla-warning" if as_agent else "comment", "internal" if as_agent else "outbound",
        None if as_agent else user, user if as_agent else None, address,
    )  # fmt: skip
    return email_id
