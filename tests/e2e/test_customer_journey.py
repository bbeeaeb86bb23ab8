"""A customer's whole journey through the gateway, on the real system, with the event stream watched alongside."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import httpx
import pytest
from e2e.e2e_steps import (
    CreateAdmin,
    EventTap,
    eventually,
    log_in,
    mail_to,
    new_account,
    reply_by_email,
    sign_up_and_confirm,
    upload,
    validate_event,
)

from casefold_local.stack import Layout
from casefold_local.system import System

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.timeout(600)]


async def test_customer_opens_discusses_and_closes_a_case(
    e2e_system: System, gateway: httpx.AsyncClient, inbox: httpx.AsyncClient, create_admin: CreateAdmin
) -> None:
    layout = e2e_system.layout
    tap = EventTap(layout.kafka_bootstrap, layout.topic("cases.events.v1"))
    try:
        await tap.start()
        await _journey(layout, gateway, inbox, create_admin, tap)
    finally:
        await tap.stop()


async def _journey(
    layout: Layout, gateway: httpx.AsyncClient, inbox: httpx.AsyncClient, create_admin: CreateAdmin, tap: EventTap
) -> None:
    # Sign up, confirm from the mail, log in.
    customer = new_account("customer")
    await sign_up_and_confirm(gateway, inbox, customer)
    await log_in(gateway, customer)
    me = await gateway.get("/api/identity/me", headers=customer.auth)
    assert me.status_code == 200
    assert me.json()["email_verified"] is True

    # Open a prioritised case with an attachment.
    products = (await gateway.get("/api/cases/products", headers=customer.auth)).json()
    stored = await upload(gateway, customer, "error.log", b"Traceback: checkout failed\n" * 20)
    keyword = f"kw{uuid.uuid4().hex[:8]}"
    subject = f"Production Down: checkout fails {keyword}"
    opened = await gateway.post(
        "/api/cases",
        json={"product": products[0]["id"], "subject": subject, "description": "Every payment fails since 09:00.",
              "severity": 1, "attachments": [stored["reference"]]},
        headers={**customer.auth, "Idempotency-Key": str(uuid.uuid4())},
    )  # fmt: skip
    assert opened.status_code == 201, opened.text
    case: dict[str, Any] = opened.json()
    case_id, number = case["id"], case["number"]
    assert case["prioritised"] is True
    assert case["status"] == "open"
    assert [a["filename"] for a in case["attachments"]] == ["error.log"]

    # The acknowledgement mail carries the case number.
    ack = await mail_to(inbox, customer.email, lambda m: number in m["subject"], f"the acknowledgement of {number}")
    assert number in (ack["text"] or "")

    # My cases: filters and search find it.
    async def listed(**params: str) -> list[str]:
        response = await gateway.get("/api/cases", params=params, headers=customer.auth)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert case_id in await listed(status="all")
    assert case_id in await listed(status="open")
    assert case_id not in await listed(status="closed")
    assert await listed(q=keyword) == [case_id]
    by_number = await gateway.get(f"/api/cases/by-number/{number}", headers=customer.auth)
    assert by_number.json()["id"] == case_id

    # The customer comments.
    comment = await gateway.post(
        f"/api/cases/{case_id}/comments", json={"body": "Still failing."}, headers=customer.auth
    )
    assert comment.status_code == 201, comment.text

    # An agent (a second user whom an admin made agent) replies; the customer gets that mail.
    agent, admin = new_account("agent"), new_account("admin")
    await sign_up_and_confirm(gateway, inbox, agent)
    create_admin(admin.email, admin.display_name, admin.password)
    await log_in(gateway, admin)
    granted = await gateway.post(f"/api/identity/users/{agent.id}/roles", json={"role": "agent"}, headers=admin.auth)
    assert granted.status_code == 204, granted.text
    await log_in(gateway, agent)
    reply_text = f"We rolled back the release {keyword}."
    reply = await gateway.post(f"/api/cases/{case_id}/comments", json={"body": reply_text}, headers=agent.auth)
    assert reply.status_code == 201, reply.text
    answer = await mail_to(
        inbox, customer.email, lambda m: number in m["subject"] and m["id"] != ack["id"], "the agent's reply"
    )
    assert reply_text in (answer["text"] or "")

    # Names from the cases service's user directory (projected from identity's events): the agent sees who wrote.
    async def named_page() -> dict[str, Any] | None:
        page: dict[str, Any] = (await gateway.get(f"/api/cases/{case_id}", headers=agent.auth)).json()
        return page if [c["author_name"] for c in page["comments"]][-1:] == [agent.display_name] else None

    page = await eventually(named_page, "the case page names the comments' authors")
    assert (page["opened_by_name"], page["opened_by_email"]) == (customer.display_name, customer.email)
    assert [c["author_name"] for c in page["comments"]] == [customer.display_name, agent.display_name]

    # The customer answers that email from their mail client: the reply becomes a comment, its quote left out, and
    # its attachment goes through attachments onto the case.
    by_email = f"Confirmed, checkout works again {keyword}."
    log = f"checkout ok {keyword}\n".encode() * 20
    await reply_by_email(layout, answer, customer.email, f"{by_email}\n\nOn Tuesday support wrote:\n> ...",
                         attachment=("checkout.log", log))  # fmt: skip

    async def commented_by_email() -> list[dict[str, Any]] | None:
        page = (await gateway.get(f"/api/cases/{case_id}", headers=customer.auth)).json()
        bodies = [c["body"] for c in page["comments"]]
        return page["comments"] if by_email in bodies else None

    comments = await eventually(commented_by_email, "the reply by email as a comment on the case")
    assert (comments[-1]["body"], comments[-1]["author_id"]) == (by_email, customer.id)

    async def attached_by_email() -> dict[str, Any] | None:
        page = (await gateway.get(f"/api/cases/{case_id}", headers=customer.auth)).json()
        return next((a for a in page["attachments"] if a["filename"] == "checkout.log"), None)

    by_mail = await eventually(attached_by_email, "the reply's attachment on the case")
    assert by_mail["added_by"] == customer.id
    downloaded = await gateway.get(f"/api/attachments/{by_mail['id']}", headers=customer.auth)
    assert downloaded.status_code == 200
    assert hashlib.sha256(downloaded.content).hexdigest() == by_mail["sha256"] == hashlib.sha256(log).hexdigest()

    # The customer adds another attachment.
    more = await upload(gateway, customer, "after-rollback.log", b"all good now\n")
    added = await gateway.post(
        f"/api/cases/{case_id}/attachments", json={"reference": more["reference"]}, headers=customer.auth
    )
    assert added.status_code == 201, added.text

    # The activity history lists every mail about the case (as the inbox received them) and opens one.
    seen: dict[str, Any] = {}

    async def activity_covers_inbox() -> list[dict[str, Any]] | None:
        entries = (await gateway.get(f"/api/notifications/cases/{case_id}/activity", headers=customer.auth)).json()
        mails = [m for m in (await inbox.get("/api/messages")).json() if number in m["subject"]]
        seen.update(entries=entries, mails=mails)
        listed = [(e["subject"], (e["to"] or "").lower()) for e in entries if e["status"] == "sent"]
        missing = [
            (m["subject"], to)
            for m in mails
            for to in m["to"]
            if not any(subject == m["subject"] and to.lower() in e_to for subject, e_to in listed)
        ]
        return entries if len(mails) >= 2 and not missing else None

    try:
        entries = await eventually(activity_covers_inbox, "the activity history lists every mail of the case")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last seen: {seen}") from None
    opened_mail = await gateway.get(f"/api/notifications/messages/{entries[0]['id']}", headers=customer.auth)
    assert opened_mail.status_code == 200, opened_mail.text
    assert number in opened_mail.json()["subject"]

    # Close: final; a further comment is refused.
    closed = await gateway.post(f"/api/cases/{case_id}/close", headers=customer.auth)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    refused = await gateway.post(f"/api/cases/{case_id}/comments", json={"body": "one more"}, headers=customer.auth)
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["error_id"] == refused.headers["x-request-id"]  # the id a customer quotes is in the logs
    assert case_id in await listed(status="closed")

    # Log out: the refresh token is dead and identity refuses the old access token at once.
    logout = await gateway.request(
        "DELETE", "/api/identity/sessions/current", json={"refresh_token": customer.refresh_token}
    )
    assert logout.status_code == 204, logout.text
    again = await gateway.post("/api/identity/sessions/refresh", json={"refresh_token": customer.refresh_token})
    assert again.status_code == 401
    assert (await gateway.get("/api/identity/me", headers=customer.auth)).status_code == 401

    # The other services refuse it too, once they have polled identity's revocation list (every few seconds).
    async def cases_refuses() -> bool | None:
        status = (await gateway.get(f"/api/cases/{case_id}", headers=customer.auth)).status_code
        return True if status == 401 else None

    await eventually(cases_refuses, "the cases service refusing the logged-out access token", within=20)

    # Support tooling saw the case's events in order, each valid against the published schema.
    expected = ["CaseOpened", "CommentAdded", "CommentAdded", "CommentAdded", "AttachmentAdded", "AttachmentAdded",
                "CaseClosed"]  # fmt: skip

    async def all_events() -> list[dict[str, Any]] | None:
        records = tap.for_stream(case_id)
        return records if len(records) >= len(expected) else None

    records = await eventually(all_events, f"{expected} on {tap.topic}")
    assert [r["value"]["event_type"] for r in records] == expected
    assert [r["value"]["stream_version"] for r in records] == list(range(1, len(expected) + 1))
    for record in records:
        validate_event(record)
