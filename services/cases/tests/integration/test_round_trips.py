"""The statements one command sends (every round trip is CPU on both sides; see docs/performance.md): counted, and
what they write checked, so that a change that adds a round trip to the hot path is seen."""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI

from casefold_events.envelope import Actor, Metadata
from casefold_testing.statements import counting
from cases.app import handlers
from cases.domain.commands import AddComment, Caller, OpenCase

pytestmark = pytest.mark.integration

CUSTOMER = Caller(user_id=uuid.uuid4(), role="customer", email_verified=True)
METADATA = Metadata(actor=Actor(user_id=CUSTOMER.user_id, role="customer"), correlation_id=uuid.uuid4())


# The relay leads in another process here (the worker, as on Kubernetes), so the doorbell wakes it by one NOTIFY
# after COMMIT (coalesced under load); a relay leading in the API's process is woken without a statement.
ONE_NOTIFY = ["SELECT pg_notify($1, '')"]


def _open() -> OpenCase:
    return OpenCase(case_id=uuid.uuid4(), product_id="casefold-cloud", subject="round trips", description="counted",
                    severity=2, attachments=())  # fmt: skip


async def test_open_case_is_four_statements_and_a_notify_after_and_writes_all_it_promises(app: FastAPI) -> None:
    deps = app.state.commands
    await handlers.handle_open_case(deps, _open(), CUSTOMER, METADATA, str(uuid.uuid4()))  # warm: statements cached
    await deps.doorbell.close()
    command, key = _open(), str(uuid.uuid4())

    with counting() as sent:
        reply = await handlers.handle_open_case(deps, command, CUSTOMER, METADATA, key)
        await deps.doorbell.close()

    # BEGIN with the writer lock; the key's claim with the case number; the append, outbox row, summary and the
    # key's completion in one; COMMIT. Then the doorbell's NOTIFY, outside the transaction (ONE_NOTIFY).
    assert (len(sent), sent[-1:]) == (5, ONE_NOTIFY), sent
    case_id = str(command.case_id)
    row = await deps.pool.fetchrow(
        """SELECT (SELECT count(*) FROM events WHERE stream_id = $1) AS events,
                  (SELECT count(*) FROM outbox WHERE message_key = $1) AS outbox,
                  (SELECT number FROM case_summaries WHERE id = $1::uuid) AS number,
                  (SELECT response->>'id' FROM idempotency_keys WHERE key = $2) AS stored""",
        case_id,
        key,
    )
    assert (row["events"], row["outbox"], row["number"], row["stored"]) == (1, 1, int(reply.body["number"]), case_id)


async def test_add_comment_is_five_statements_and_a_notify_after_and_a_repeat_writes_nothing(app: FastAPI) -> None:
    deps = app.state.commands
    opened = await handlers.handle_open_case(deps, _open(), CUSTOMER, METADATA, str(uuid.uuid4()))
    case_id = uuid.UUID(opened.body["id"])

    def comment() -> AddComment:
        return AddComment(case_id=case_id, comment_id=uuid.uuid4(), body="counted", internal=False)

    await handlers.handle_add_comment(deps, comment(), CUSTOMER, METADATA, str(uuid.uuid4()))
    await deps.doorbell.close()
    key = str(uuid.uuid4())
    with counting() as sent:
        first = await handlers.handle_add_comment(deps, comment(), CUSTOMER, METADATA, key)
        await deps.doorbell.close()
    # BEGIN with the lock; the claim with the author; the case's load; the append, comment, search words, summary
    # and completion in one; COMMIT; the doorbell's NOTIFY (ONE_NOTIFY).
    assert (len(sent), sent[-1:]) == (6, ONE_NOTIFY), sent

    again = await handlers.handle_add_comment(deps, comment(), CUSTOMER, METADATA, key)

    assert again.body == first.body
    comments = await deps.pool.fetchval("SELECT count(*) FROM case_comments WHERE case_id = $1", case_id)
    activity = await deps.pool.fetchval("SELECT version FROM case_summaries WHERE id = $1", case_id)
    assert (comments, activity) == (2, 3)
