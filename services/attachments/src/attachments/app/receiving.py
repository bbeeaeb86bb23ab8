"""Reading an upload body: each `file` part streamed to a staged blob while it is hashed, counted and sniffed.

Nothing is committed here: the caller commits every staged file together, or aborts them all, so a request that
fails half-way (too large, refused type, truncated body, client gone) leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from attachments.adapters.storage import BlobWriter, Storage
from attachments.app.multipart import MultipartStream, PartData, PartEnd, PartStart
from attachments.domain.filenames import extension_of, sanitise_filename
from attachments.domain.sniffing import ALLOWED_TYPES, SNIFF_BYTES, Kind, NotAllowed, TextCheck, classify
from casefold_platform.problems import InvalidInput, TooLarge, UnsupportedMediaType

FILE_FIELD = "file"
CASE_FIELD = "case_id"
_MAX_FIELD_BYTES = 64


@dataclass(frozen=True)
class UploadLimits:
    max_file_bytes: int
    max_files: int
    max_header_bytes: int


@dataclass
class StagedFile:
    """One file part as it streams in, then its final size, digest and sniffed type."""

    filename: str
    declared_type: str
    writer: BlobWriter | None = None
    size: int = 0
    kind: Kind | None = None
    _hash: Any = field(default_factory=hashlib.sha256)
    _head: bytearray = field(default_factory=bytearray)
    _text: TextCheck | None = None

    @property
    def sha256(self) -> str:
        return str(self._hash.hexdigest())

    @property
    def content_type(self) -> str:
        assert self.kind is not None
        return self.kind.content_type


@dataclass
class ReceivedUpload:
    files: list[StagedFile]
    case_id: uuid.UUID | None


def _refused(filename: str, reason: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(f"{filename}: {reason}", allowed_types=list(ALLOWED_TYPES), filename=filename)


class _Receiver:
    def __init__(self, storage: Storage, limits: UploadLimits) -> None:
        self.storage = storage
        self.limits = limits
        self.files: list[StagedFile] = []
        self.current: StagedFile | None = None
        self.field_name: str | None = None
        self.field_value = bytearray()
        self.case_field: bytes | None = None

    async def on_start(self, part: PartStart) -> None:
        if part.name == FILE_FIELD:
            if len(self.files) >= self.limits.max_files:
                raise TooLarge(f"At most {self.limits.max_files} files can be uploaded in one request.")
            self.current = StagedFile(filename=sanitise_filename(part.filename), declared_type=part.content_type)
            self.files.append(self.current)
        elif part.name == CASE_FIELD:
            self.field_name, self.field_value = part.name, bytearray()
        else:
            raise InvalidInput(f"Unexpected form field {part.name[:40]!r}: send `file` parts and optionally `case_id`.")

    async def on_data(self, data: bytes) -> None:
        staged = self.current
        if staged is None:
            self.field_value += data
            if len(self.field_value) > _MAX_FIELD_BYTES:
                raise InvalidInput("The case_id field is too long.")
            return
        staged.size += len(data)
        if staged.size > self.limits.max_file_bytes:
            raise TooLarge(
                f"{staged.filename} exceeds the limit of {self.limits.max_file_bytes} bytes per file.",
                max_file_bytes=self.limits.max_file_bytes,
            )
        staged._hash.update(data)
        if staged.kind is None:
            staged._head += data
            if len(staged._head) >= SNIFF_BYTES:
                await self._decide(staged, complete=False)
            return
        await self._write(staged, data)

    async def on_end(self) -> None:
        staged, self.current = self.current, None
        if staged is None:
            if self.field_name == CASE_FIELD:
                self.case_field = bytes(self.field_value)
            self.field_name = None
            return
        if staged.size == 0:
            raise InvalidInput(f"{staged.filename} is empty.")
        if staged.kind is None:
            await self._decide(staged, complete=True)
        assert staged.writer is not None
        await staged.writer.finish()
        if staged._text is not None:
            staged._text.feed(b"", final=True)
            self._check_text(staged)

    async def _decide(self, staged: StagedFile, *, complete: bool) -> None:
        head = bytes(staged._head)
        staged._head = bytearray()
        try:
            staged.kind = classify(
                head[:SNIFF_BYTES],
                complete=complete and len(head) <= SNIFF_BYTES,
                filename_extension=extension_of(staged.filename),
                declared=staged.declared_type,
            )
        except NotAllowed as exc:
            raise _refused(staged.filename, str(exc)) from exc
        if staged.kind.text:
            staged._text = TextCheck()
        staged.writer = await self.storage.open_writer()
        await self._write(staged, head)

    @staticmethod
    def _check_text(staged: StagedFile) -> None:
        if staged._text is not None and not staged._text.ok:
            raise _refused(
                staged.filename,
                f"The file starts as text but is not UTF-8 text throughout. Allowed types: {', '.join(ALLOWED_TYPES)}.",
            )

    async def _write(self, staged: StagedFile, data: bytes) -> None:
        if staged._text is not None:
            staged._text.feed(data)
            self._check_text(staged)
        assert staged.writer is not None
        await staged.writer.write(data)

    def case_id(self) -> uuid.UUID | None:
        if self.case_field is None:
            return None
        try:
            return uuid.UUID(self.case_field.decode("ascii").strip())
        except (UnicodeDecodeError, ValueError):
            raise InvalidInput("case_id is not a UUID.") from None


async def abort_all(files: list[StagedFile]) -> None:
    """Discard every staged blob; best effort, never raises (it runs while another error propagates)."""
    for staged in files:
        if staged.writer is not None:
            with contextlib.suppress(Exception):
                await staged.writer.abort()


async def receive_upload(
    body: AsyncIterator[bytes], content_type: str | None, storage: Storage, limits: UploadLimits
) -> ReceivedUpload:
    """Stream the body's file parts into staged blobs; on any failure abort them all and re-raise."""
    stream = MultipartStream(content_type, max_header_bytes=limits.max_header_bytes)
    receiver = _Receiver(storage, limits)
    try:
        async for chunk in body:
            for event in stream.feed(chunk):
                if isinstance(event, PartStart):
                    await receiver.on_start(event)
                elif isinstance(event, PartData):
                    await receiver.on_data(event.data)
                elif isinstance(event, PartEnd):
                    await receiver.on_end()
        stream.finish()
        if not receiver.files:
            raise InvalidInput("No file was uploaded: send one or more `file` parts.")
        return ReceivedUpload(files=receiver.files, case_id=receiver.case_id())
    except BaseException:
        await abort_all(receiver.files)
        raise
