"""Which rows of a relay batch may be marked published, given the broker's answer to each message."""

from __future__ import annotations

from aiokafka.errors import MessageSizeTooLargeError
from aiokafka.structs import RecordMetadata, TopicPartition

from casefold_events.relay import acknowledged_rows


def _row(row_id: int, key: str, topic: str = "t") -> dict[str, object]:
    return {"id": row_id, "topic": topic, "message_key": key}


ACK = RecordMetadata("t", 0, TopicPartition("t", 0), 1, 0, 0, None)
REFUSED = MessageSizeTooLargeError()


def test_every_acknowledged_row_is_marked_in_order() -> None:
    rows = [_row(1, "a"), _row(2, "b"), _row(3, "a")]
    assert acknowledged_rows(rows, [ACK, ACK, ACK]) == [1, 2, 3]


def test_a_refused_message_leaves_its_row_unmarked_and_the_others_marked() -> None:
    rows = [_row(1, "a"), _row(2, "b"), _row(3, "c")]
    assert acknowledged_rows(rows, [ACK, REFUSED, ACK]) == [1, 3]


def test_a_later_row_of_a_refused_key_stays_unmarked_even_when_acknowledged() -> None:
    # Marking row 3 would let stream "a" go on without row 1: it is published again after row 1, in order.
    rows = [_row(1, "a"), _row(2, "b"), _row(3, "a")]
    assert acknowledged_rows(rows, [REFUSED, ACK, ACK]) == [2]


def test_the_same_key_on_another_topic_is_not_held_back() -> None:
    rows = [_row(1, "a", topic="x"), _row(2, "a", topic="y")]
    assert acknowledged_rows(rows, [REFUSED, ACK]) == [2]


def test_a_slice_is_marked_only_when_all_its_messages_were_acknowledged() -> None:
    # Row 1 is a three-event slice (one message per event); its second message was refused.
    rows = [_row(1, "a"), _row(1, "a"), _row(1, "a"), _row(2, "b"), _row(2, "b")]
    assert acknowledged_rows(rows, [ACK, REFUSED, ACK, ACK, ACK]) == [2]


def test_rows_never_queued_are_not_marked() -> None:
    # The producer refused the third message before queueing it: nothing after it was sent.
    rows = [_row(1, "a"), _row(2, "b"), _row(3, "c"), _row(4, "d")]
    assert acknowledged_rows(rows, [ACK, ACK]) == [1, 2]
