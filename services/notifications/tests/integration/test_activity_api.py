"""The activity history API: a case's emails for its owner and agents, 404 for anyone else."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import pytest
from notifications_builders import account_email, case_opened, comment, user_registered, wrap
from notifications_harness import Harness

pytestmark = pytest.mark.integration


@dataclass
class Scenario:
    case_id: uuid.UUID
    owner: uuid.UUID
    agent: uuid.UUID
    account_email_id: uuid.UUID


async def _scenario(h: Harness) -> Scenario:
    """A prioritised case (ack + alert), an agent comment, a customer comment, an internal note; an account email."""
    owner, agent = uuid.uuid4(), uuid.uuid4()
    await h.publish(wrap(user_registered(owner, f"{owner.hex[:8]}@customer.test", "Ada"), owner, stream_type="user"))
    await h.publish(wrap(user_registered(agent, "grace@casefold.local", "Grace", role="agent"), agent,
                         stream_type="user"))  # fmt: skip
    case_id = uuid.uuid4()
    await h.publish(wrap(case_opened(case_id, owner, 4242, prioritised=True), case_id))
    await h.publish(wrap(comment(case_id, agent, "agent", body="Logs please"), case_id, 2))
    await h.publish(wrap(comment(case_id, owner, "customer", body="Attached"), case_id, 3))
    await h.publish(wrap(comment(case_id, agent, "agent", internal=True, body="note"), case_id, 4))
    await h.publish(wrap(account_email(owner, f"{owner.hex[:8]}@customer.test"), owner, stream_type="mail"))
    await h.delivered(5)
    await h.settled()
    account_id = await h.pool.fetchval("SELECT id FROM emails WHERE case_id IS NULL AND recipient_user_id IS NULL "
                                       "AND to_address LIKE $1", f"%{owner.hex[:8]}%")  # fmt: skip
    return Scenario(case_id, owner, agent, account_id)


async def test_the_owner_sees_what_was_sent_to_them_and_their_own_messages_in_order(harness: Harness) -> None:
    s = await _scenario(harness)

    response = await harness.http.get(f"/api/notifications/cases/{s.case_id}/activity", headers=harness.auth(s.owner))

    assert response.status_code == 200
    entries = response.json()
    assert [e["direction"] for e in entries] == ["outbound", "outbound", "inbound"]
    assert all(e["subject"] == "[Case 00004242] Login page is slow" for e in entries)
    assert all(e["status"] == "sent" and e["sent_at"] for e in entries)
    assert entries[0]["to"] == f"Ada <{s.owner.hex[:8]}@customer.test>"
    assert entries[0]["from"] == "Casefold Support <support@casefold.local>"
    assert entries[2]["to"] == "support-team@casefold.local"
    assert set(entries[0]) == {"id", "kind", "label", "direction", "from", "to", "subject", "sent_at", "status"}
    assert [(e["kind"], e["label"]) for e in entries] == [
        ("ack", "Acknowledgement"), ("agent-comment", "Reply from support"), ("customer-comment", "Your comment"),
    ]  # fmt: skip


async def test_agents_and_admins_also_see_internal_alerts(harness: Harness) -> None:
    s = await _scenario(harness)

    for role in ("agent", "admin"):
        response = await harness.http.get(f"/api/notifications/cases/{s.case_id}/activity",
                                          headers=harness.auth(uuid.uuid4(), role))  # fmt: skip
        assert response.status_code == 200
        assert [e["direction"] for e in response.json()] == ["outbound", "internal", "outbound", "inbound"]
        assert [e["label"] for e in response.json()] == [
            "Acknowledgement", "Alert to the support team", "Reply from support", "Comment from the customer",
        ]  # fmt: skip


async def test_a_message_opens_in_full_with_its_threading_headers(harness: Harness) -> None:
    s = await _scenario(harness)
    entries = (await harness.http.get(f"/api/notifications/cases/{s.case_id}/activity",
                                      headers=harness.auth(s.owner))).json()  # fmt: skip

    ack = await harness.http.get(f"/api/notifications/messages/{entries[0]['id']}", headers=harness.auth(s.owner))
    reply = await harness.http.get(f"/api/notifications/messages/{entries[1]['id']}", headers=harness.auth(s.owner))

    assert ack.status_code == 200
    assert reply.status_code == 200
    body = reply.json()
    assert body["case_id"] == str(s.case_id)
    assert body["headers"]["In-Reply-To"] == ack.json()["headers"]["Message-ID"]
    assert body["headers"]["References"] == ack.json()["headers"]["Message-ID"]
    assert body["label"] == "Reply from support"
    assert "Logs please" in body["text"]
    assert "Logs please" in body["html"]
    assert body["status"] == "sent"
    assert body["from"] == "Casefold Support <support@casefold.local>"


async def test_later_emails_keep_the_references_chain_of_what_their_reader_has_seen(harness: Harness) -> None:
    s = await _scenario(harness)  # to the owner: ack, agent reply; to support: alert, the customer's comment
    rows = {r["kind"]: {**r, "headers": json.loads(r["headers"])} for r in await harness.emails(s.case_id)}
    ack, alert, reply = (rows[k]["message_id"] for k in ("ack", "alert", "agent-comment"))

    assert rows["agent-comment"]["headers"]["References"] == ack  # the customer never saw the alert to support
    assert rows["customer-comment"]["headers"]["References"] == f"{ack} {alert} {reply}"
    assert rows["customer-comment"]["headers"]["In-Reply-To"] == reply


async def test_anyone_else_gets_404_for_the_case_and_its_messages(harness: Harness) -> None:
    s = await _scenario(harness)
    stranger = harness.auth(uuid.uuid4())
    ids = [r["id"] for r in await harness.emails(s.case_id)]

    activity = await harness.http.get(f"/api/notifications/cases/{s.case_id}/activity", headers=stranger)
    messages = [await harness.http.get(f"/api/notifications/messages/{i}", headers=stranger) for i in ids]

    assert activity.status_code == 404
    assert activity.headers["content-type"].startswith("application/problem+json")
    assert [m.status_code for m in messages] == [404] * 4


async def test_the_customer_cannot_open_an_internal_alert(harness: Harness) -> None:
    s = await _scenario(harness)
    alert = await harness.pool.fetchval("SELECT id FROM emails WHERE case_id = $1 AND kind = 'alert'", s.case_id)

    as_owner = await harness.http.get(f"/api/notifications/messages/{alert}", headers=harness.auth(s.owner))
    as_agent = await harness.http.get(f"/api/notifications/messages/{alert}", headers=harness.auth(s.agent, "agent"))

    assert as_owner.status_code == 404
    assert as_agent.status_code == 200


async def test_account_emails_are_in_no_history(harness: Harness) -> None:
    s = await _scenario(harness)

    for who in (harness.auth(s.owner), harness.auth(uuid.uuid4(), "admin")):
        response = await harness.http.get(f"/api/notifications/messages/{s.account_email_id}", headers=who)
        assert response.status_code == 404


async def test_unknown_case_and_message_are_404_and_a_token_is_required(harness: Harness) -> None:
    agent = harness.auth(uuid.uuid4(), "agent")

    unknown_case = await harness.http.get(f"/api/notifications/cases/{uuid.uuid4()}/activity", headers=agent)
    unknown_message = await harness.http.get(f"/api/notifications/messages/{uuid.uuid4()}", headers=agent)
    anonymous = await harness.http.get(f"/api/notifications/cases/{uuid.uuid4()}/activity")
    malformed = await harness.http.get("/api/notifications/messages/not-a-uuid", headers=agent)

    assert unknown_case.status_code == 404
    assert unknown_message.status_code == 404
    assert anonymous.status_code == 401
    assert malformed.status_code == 422
    assert malformed.headers["content-type"].startswith("application/problem+json")
