"""multipart/form-data read incrementally: python-multipart's callback parser turned into a list of events per chunk.

Only the current chunk is ever held; the caller awaits storage writes between chunks, so memory stays bounded
whatever the file size.
"""

from __future__ import annotations

from dataclasses import dataclass

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from casefold_platform.problems import MalformedBody, UnsupportedMediaType


@dataclass(frozen=True)
class PartStart:
    name: str
    filename: str | None
    content_type: str


@dataclass(frozen=True)
class PartData:
    data: bytes


@dataclass(frozen=True)
class PartEnd:
    pass


Event = PartStart | PartData | PartEnd


def boundary_of(content_type: str | None) -> bytes:
    """The boundary of a multipart/form-data Content-Type; 415 for any other type, 400 without a boundary."""
    media, options = parse_options_header(content_type or "")
    if media != b"multipart/form-data":
        raise UnsupportedMediaType("Upload files as multipart/form-data with one or more `file` parts.")
    boundary = options.get(b"boundary")
    if not boundary or len(boundary) > 200:
        raise MalformedBody("The multipart Content-Type has no usable boundary.")
    return boundary


class MultipartStream:
    """Feed body chunks; get back the parts' starts, data and ends in order."""

    def __init__(self, content_type: str | None, *, max_header_bytes: int) -> None:
        self._max_header_bytes = max_header_bytes
        self._events: list[Event] = []
        self._headers: list[tuple[bytes, bytes]] = []
        self._field = bytearray()
        self._value = bytearray()
        self._header_bytes = 0
        self.ended = False
        self._parser = MultipartParser(
            boundary_of(content_type),
            {
                "on_part_begin": self._on_part_begin,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
                "on_end": self._on_end,
            },
        )

    def feed(self, chunk: bytes) -> list[Event]:
        if self.ended:
            return []  # an epilogue after the closing boundary is allowed and ignored
        try:
            self._parser.write(chunk)
        except MultipartParseError as exc:
            raise MalformedBody(f"The multipart body is malformed: {str(exc)[:200]}") from exc
        events, self._events = self._events, []
        return events

    def finish(self) -> None:
        """The body ended: it must have ended with the closing boundary."""
        if not self.ended:
            raise MalformedBody("The multipart body is truncated: it ended before its closing boundary.")

    def _count_header(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > self._max_header_bytes:
            raise MalformedBody(f"A part's headers exceed {self._max_header_bytes} bytes.")

    def _on_part_begin(self) -> None:
        self._headers = []
        self._header_bytes = 0

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._value += data[start:end]

    def _on_header_end(self) -> None:
        self._headers.append((bytes(self._field).strip().lower(), bytes(self._value).strip()))
        self._field, self._value = bytearray(), bytearray()

    def _on_headers_finished(self) -> None:
        headers = dict(self._headers)
        disposition, options = parse_options_header(headers.get(b"content-disposition", b"").decode("latin-1"))
        if disposition != b"form-data" or b"name" not in options:
            raise MalformedBody("Every part needs Content-Disposition: form-data with a name.")
        filename = options.get(b"filename")
        self._events.append(
            PartStart(
                name=options[b"name"].decode("utf-8", errors="replace"),
                # Browsers send the name's UTF-8 bytes raw; latin-1 round-trips them unchanged until here.
                filename=filename.decode("utf-8", errors="replace") if filename is not None else None,
                content_type=headers.get(b"content-type", b"").decode("latin-1")[:200],
            )
        )

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if end > start:
            self._events.append(PartData(data[start:end]))

    def _on_part_end(self) -> None:
        self._events.append(PartEnd())

    def _on_end(self) -> None:
        self.ended = True
