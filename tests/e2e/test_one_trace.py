"""One trace from the gateway to the SMTP send: every span of the system arrives over real OTLP at a receiver in
this test, and opening a case is ONE trace through Envoy, cases (HTTP and its database), the relay's publish to
Kafka, notifications' consumer and the acknowledgement's SMTP send."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from e2e.e2e_steps import log_in, mail_to, new_account, sign_up_and_confirm

from casefold_local.system import System
from casefold_local.tracestore import Span, TraceStore, tree_lines
from casefold_local.traceviewer import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.timeout(300)]


def _gateway_trace(request_id: str) -> object:
    """The trace whose gateway SERVER span carries the request id, once the SMTP send has arrived in it."""

    def found(store: TraceStore) -> list[Span] | None:
        ingress = next(
            (s for s in store.spans()
             if s.service == "gateway" and s.kind == "SERVER" and s.attributes.get("guid:x-request-id") == request_id),
            None,
        )  # fmt: skip
        if ingress is None:
            return None
        spans = store.trace(ingress.trace_id)
        return spans if any(s.name == "smtp send" for s in spans) else None

    return found


def _one(spans: list[Span], what: str, **match: str) -> Span:
    found = [s for s in spans if all(getattr(s, k) == v for k, v in match.items())]
    assert len(found) == 1, f"expected one {what} ({match}), found {len(found)}:\n" + "\n".join(tree_lines(spans))
    return found[0]


def _descends(span: Span, ancestor: Span, spans: list[Span]) -> bool:
    by_id = {s.span_id: s for s in spans}
    parent = span.parent_span_id
    while parent is not None:
        if parent == ancestor.span_id:
            return True
        parent = by_id[parent].parent_span_id if parent in by_id else None
    return False


async def test_opening_a_case_is_one_trace_from_the_gateway_to_the_smtp_send(
    e2e_system: System, gateway: httpx.AsyncClient, inbox: httpx.AsyncClient, otlp_receiver: Receiver
) -> None:
    layout = e2e_system.layout
    customer = new_account("traced")
    await sign_up_and_confirm(gateway, inbox, customer)
    await log_in(gateway, customer)
    products = (await gateway.get("/api/cases/products", headers=customer.auth)).json()

    opened = await gateway.post(
        "/api/cases",
        json={"product": products[0]["id"], "subject": f"Traced {uuid.uuid4().hex[:8]}", "description": "Slow.",
              "severity": 3},
        headers={**customer.auth, "Idempotency-Key": str(uuid.uuid4())},
    )  # fmt: skip
    assert opened.status_code == 201, opened.text
    number = opened.json()["number"]
    await mail_to(inbox, customer.email, lambda m: number in m["subject"], f"the acknowledgement of {number}")
    spans = await asyncio.to_thread(otlp_receiver.store.wait_for, _gateway_trace(opened.headers["x-request-id"]), 120)
    assert spans, "no trace with the gateway's request span and an SMTP send arrived within 120 s"

    tree = "\n".join(tree_lines(spans))
    ingress = _one(spans, "gateway request span", service="gateway", kind="SERVER")
    request = _one(spans, "cases request span", service="cases", kind="SERVER", name="POST /api/cases")
    cases_topic = layout.topic("cases.events.v1")
    publish = _one(spans, "relay publish", service="cases", kind="PRODUCER", name=f"send {cases_topic}")
    consume = _one(spans, "notifications consumer", service="notifications", kind="CONSUMER",
                   name=f"process {cases_topic}")  # fmt: skip
    smtp = _one(spans, "SMTP send", service="notifications", name="smtp send")
    queries = [s for s in spans if s.service == "cases" and s.kind == "CLIENT" and "db.system.name" in s.attributes]

    assert {s.trace_id for s in spans} == {ingress.trace_id}
    assert ingress.parent_span_id is None, tree  # the trace starts at the gateway
    assert _descends(request, ingress, spans), tree
    assert any(_descends(q, request, spans) and q.attributes["db.system.name"] == "postgresql" for q in queries), tree
    assert publish.parent_span_id == request.span_id, tree  # the outbox row carried the request's traceparent
    assert consume.parent_span_id == publish.span_id, tree  # the Kafka message carried the publish span's
    assert _descends(smtp, consume, spans), tree  # the email row carried the consumer's
    assert smtp.kind == "CLIENT"
    assert smtp.attributes["casefold.email.result"] == "sent"
    assert (smtp.attributes["server.port"], smtp.attributes["network.protocol.name"]) == (layout.smtp_port, "smtp")
    assert consume.attributes["messaging.consumer.group.name"] == layout.topic("notifications")
    assert consume.attributes["messaging.kafka.message.key"] == opened.json()["id"]
