"""Events handled a batch per transaction, emails sent over several SMTP connections: no guarantee given up."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord
from notifications_builders import case_opened, comment, user_registered, wrap
from notifications_harness import Harness, HarnessFactory

from casefold_events.envelope import Envelope, encode, kafka_headers
from notifications.batch_consumer import BatchConsumer

pytestmark = pytest.mark.integration


def _records(topic: str, *values: Envelope | bytes) -> list[ConsumerRecord[bytes, bytes]]:
    """Records of one partition, as one fetch hands them to the consumer."""
    records = []
    for offset, value in enumerate(values):
        data, headers = (value, []) if isinstance(value, bytes) else (encode(value), kafka_headers(value))
        records.append(ConsumerRecord(topic, 0, offset, 0, 0, b"key", data, None, 3, len(data), headers))
    return records


async def _customer(h: Harness, address: str | None = None) -> tuple[uuid.UUID, str]:
    user_id = uuid.uuid4()
    address = address or f"{user_id.hex[:10]}@customer.test"
    await h.publish(wrap(user_registered(user_id, address, "Ada Lovelace"), user_id, stream_type="user"))

    async def known() -> bool:
        return bool(await h.pool.fetchval("SELECT 1 FROM users WHERE user_id = $1", user_id))

    await h.until(known)
    return user_id, address


def _consumer(h: Harness) -> BatchConsumer:
    runner = h.app.state.worker.consumer
    assert isinstance(runner, BatchConsumer)
    return runner


async def test_a_batch_with_a_repeated_event_yields_one_email_and_a_later_redelivery_none(harness: Harness) -> None:
    owner, address = await _customer(harness)
    first, second = uuid.uuid4(), uuid.uuid4()
    opened = wrap(case_opened(first, owner, 301), first)
    runner = _consumer(harness)
    topic = harness.settings.cases_topic

    done = await runner.handle_batch(_records(topic, opened, opened, wrap(case_opened(second, owner, 302), second)))
    await runner.handle_batch(_records(topic, opened))  # the same event once more, in a later fetch

    assert done == 2  # the offset to commit: the last record of the batch
    assert runner.fallbacks == 0  # handled in one transaction, the copy skipped there
    await harness.delivered(2)
    rows = await harness.settled(first) + await harness.settled(second)
    assert [(r["kind"], r["status"]) for r in rows] == [("ack", "sent"), ("ack", "sent")]
    assert [m["Message-ID"] for m in harness.smtp.to(address)].count(f"<{opened.event_id}.ack@casefold.local>") == 1
    inbox = await harness.pool.fetchval("SELECT count(*) FROM inbox WHERE consumer = $1 AND event_id = $2",
                                        runner.name, opened.event_id)  # fmt: skip
    assert inbox == 1


async def test_the_offset_of_a_handled_batch_is_committed(harness: Harness) -> None:
    owner, _ = await _customer(harness)
    for number in (306, 307, 308):
        case_id = uuid.uuid4()
        await harness.publish(wrap(case_opened(case_id, owner, number), case_id))
    await harness.delivered(3)
    s = harness.settings
    admin = AIOKafkaAdminClient(bootstrap_servers=s.kafka_bootstrap_servers)
    await admin.start()
    try:

        async def committed() -> bool:
            offsets = await admin.list_consumer_group_offsets(s.consumer_name)
            position = offsets.get(TopicPartition(s.cases_topic, 0))
            return position is not None and position.offset == 3

        await harness.until(committed)  # a restarted worker starts after them: nothing is handled twice
    finally:
        await admin.close()


async def test_a_comment_sees_the_case_opened_earlier_in_its_batch(harness: Harness) -> None:
    owner, address = await _customer(harness)
    agent, _ = await _customer(harness, "grace@casefold.local")
    case_id = uuid.uuid4()
    opened = wrap(case_opened(case_id, owner, 303), case_id)
    reply = wrap(comment(case_id, agent, "agent", body="Please send the logs"), case_id, 2)

    await _consumer(harness).handle_batch(_records(harness.settings.cases_topic, opened, reply))

    await harness.delivered(2)
    ack, answer = harness.smtp.of_kind(address, "ack"), harness.smtp.of_kind(address, "agent-comment")
    assert answer["In-Reply-To"] == ack["Message-ID"]  # threaded under the acknowledgement of the same batch


async def test_a_poison_event_in_a_batch_is_dead_lettered_and_the_others_still_emailed(harness: Harness) -> None:
    owner, address = await _customer(harness)
    before, after, never_opened = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    runner = _consumer(harness)
    batch = _records(
        harness.settings.cases_topic,
        wrap(case_opened(before, owner, 304), before),
        wrap(comment(never_opened, owner, "customer"), never_opened, 2),  # UnknownCase, whatever the retries
        b"not an envelope",
        wrap(case_opened(after, owner, 305), after),
    )

    done = await runner.handle_batch(batch)

    assert done == 3
    assert runner.dead_lettered == 2
    assert runner.fallbacks == 1  # only the batch with the poison event left the one-transaction path
    await harness.delivered(2)
    rows = await harness.settled(before) + await harness.settled(after)
    assert [r["status"] for r in rows] == ["sent", "sent"]
    assert len(harness.smtp.to(address)) == 2


async def test_a_burst_is_sent_over_the_configured_connections_at_once_and_they_are_kept(
    harness_factory: HarnessFactory,
) -> None:
    async with harness_factory(smtp_connections=3, delivery_batch_size=2) as h:
        owner, address = await _customer(h)
        h.smtp.delay = 0.3
        for number in range(310, 322):
            case_id = uuid.uuid4()
            await h.publish(wrap(case_opened(case_id, owner, number), case_id))

        await h.delivered(12, seconds=60)

    assert h.smtp.most_in_flight == 3  # every connection busy at once, and never more than configured
    assert len(set(h.smtp.peers)) == 3  # each connection kept for the next batch, not opened anew
    assert len({m["Message-ID"] for m in h.smtp.to(address)}) == 12


async def test_smtp_failures_in_the_middle_of_concurrent_batches_lose_no_email_and_send_none_twice(
    harness_factory: HarnessFactory,
) -> None:
    async with harness_factory(smtp_connections=2, delivery_batch_size=4) as h:
        customers = [await _customer(h) for _ in range(10)]
        h.smtp.tempfail[customers[3][1]] = 1  # a 451 for one message in a batch
        h.smtp.hangup_once.add(customers[6][1])  # the connection breaks under another
        h.smtp.delay = 0.05
        case_ids = []
        for number, (owner, _) in enumerate(customers, start=330):
            case_ids.append(uuid.uuid4())
            await h.publish(wrap(case_opened(case_ids[-1], owner, number), case_ids[-1]))

        await h.delivered(10, seconds=60)
        rows = [row for case_id in case_ids for row in await h.settled(case_id)]

    assert [r["status"] for r in rows] == ["sent"] * 10
    assert rows[3]["attempts"] == 2  # the 451 is charged to its message, and only to it
    # A broken connection is not the message's fault: sent again on a new connection, at most charged once.
    assert rows[6]["attempts"] in (1, 2)
    assert [r["attempts"] for n, r in enumerate(rows) if n not in (3, 6)] == [1] * 8
    assert [len(h.smtp.to(address)) for _, address in customers] == [1] * 10
