"""SlaWarning and SlaBreached become internal emails over real Kafka, PostgreSQL and SMTP: to the assigned agent,
or to the support address; agents see them in the activity history, customers never do."""

from __future__ import annotations

import uuid

import pytest
from notifications_builders import case_opened, sla_signal, wrap
from notifications_harness import Harness

pytestmark = pytest.mark.integration

SUPPORT = "support-team@casefold.local"


async def _opened(h: Harness, owner: uuid.UUID, number: int) -> uuid.UUID:
    case_id = uuid.uuid4()
    await h.publish(wrap(case_opened(case_id, owner, number), case_id))
    return case_id


async def test_the_warning_and_the_breach_reach_the_assigned_agent(harness: Harness) -> None:
    owner, customer_address = await harness.registered("Ada", "customer")
    agent, agent_address = await harness.registered("Grace Hopper", "agent")
    case_id = await _opened(harness, owner, 501)
    await harness.publish(wrap(sla_signal(case_id, "warning", assignee=agent), case_id, 2))
    await harness.publish(wrap(sla_signal(case_id, "breached", assignee=agent), case_id, 3))

    await harness.delivered(3)
    await harness.settled(case_id)

    # several SMTP connections deliver: the two may arrive in either order
    texts = {m.get_body(("plain",)).get_content(): m for m in harness.smtp.to(agent_address)}  # type: ignore[union-attr]
    assert len(texts) == 2
    breach_text, warning_text = sorted(texts, key=lambda text: "BREACHED" not in text)
    warning, breach = texts[warning_text], texts[breach_text]
    assert warning["To"] == f"Grace Hopper <{agent_address}>"
    assert warning["Subject"] == breach["Subject"] == "[Case 00000501] Login page is slow"
    assert "close to its first response deadline: due 2026-12-07 10:00 UTC" in warning_text
    assert "BREACHED" in breach_text
    assert "Grace Hopper" in breach_text
    [ack] = harness.smtp.to(customer_address)
    assert warning["In-Reply-To"] == ack["Message-ID"]
    assert harness.smtp.to(SUPPORT) == []
    kinds = [(r["kind"], r["direction"]) for r in await harness.emails(case_id)]
    assert kinds == [("ack", "outbound"), ("sla-warning", "internal"), ("sla-breached", "internal")]


async def test_an_unassigned_case_or_a_former_agent_warns_the_support_address(harness: Harness) -> None:
    owner, _ = await harness.registered("Ada", "customer")
    former, former_address = await harness.registered("Ex Agent", "customer")
    unassigned, demoted = await _opened(harness, owner, 502), await _opened(harness, owner, 503)
    await harness.publish(wrap(sla_signal(unassigned, "breached", clock="resolution"), unassigned, 2))
    await harness.publish(wrap(sla_signal(demoted, "warning", assignee=former), demoted, 2))

    await harness.delivered(4)
    await harness.settled()

    alerts = sorted(harness.smtp.to(SUPPORT), key=lambda m: str(m["Subject"]))
    assert [m["Subject"] for m in alerts] == [
        "[Case 00000502] Login page is slow",
        "[Case 00000503] Login page is slow",
    ]
    assert "missed its resolution deadline" in alerts[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "nobody (unassigned)" in alerts[1].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert harness.smtp.to(former_address) == []


async def test_a_redelivered_signal_sends_one_email(harness: Harness) -> None:
    owner, _ = await harness.registered("Ada", "customer")
    case_id = await _opened(harness, owner, 504)
    signal = wrap(sla_signal(case_id, "warning"), case_id, 2)
    await harness.publish(signal)
    await harness.publish(signal)

    await harness.delivered(2)
    await harness.settled(case_id)

    assert len(harness.smtp.to(SUPPORT)) == 1


async def test_agents_see_sla_emails_in_the_activity_history_and_customers_never(harness: Harness) -> None:
    owner, _ = await harness.registered("Ada", "customer")
    agent, _ = await harness.registered("Grace", "agent")
    case_id = await _opened(harness, owner, 505)
    await harness.publish(wrap(sla_signal(case_id, "warning", assignee=agent), case_id, 2))
    await harness.publish(wrap(sla_signal(case_id, "breached", assignee=agent), case_id, 3))
    await harness.delivered(3)
    await harness.settled(case_id)
    path = f"/api/notifications/cases/{case_id}/activity"

    as_agent = await harness.http.get(path, headers=harness.auth(agent, role="agent"))
    as_owner = await harness.http.get(path, headers=harness.auth(owner))

    assert as_agent.status_code == as_owner.status_code == 200
    assert [(e["kind"], e["label"]) for e in as_agent.json()] == [
        ("ack", "Acknowledgement"),
        ("sla-warning", "SLA warning"),
        ("sla-breached", "SLA breached"),
    ]
    assert [e["kind"] for e in as_owner.json()] == ["ack"]
    rows = await harness.emails(case_id)
    for row in rows:
        if row["kind"].startswith("sla-"):
            message = await harness.http.get(f"/api/notifications/messages/{row['id']}", headers=harness.auth(owner))
            assert message.status_code == 404
