"""Errors of the event store."""

from __future__ import annotations


class ConcurrencyError(Exception):
    """Somebody else appended to the stream first (or the stream is not at the expected version)."""

    def __init__(self, stream_id: str, expected: object) -> None:
        super().__init__(f"stream {stream_id!r} is not at the expected version {expected!r}")
        self.stream_id = stream_id
        self.expected = expected
