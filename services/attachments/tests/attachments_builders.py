"""Test data for the attachments tests: file contents of each kind, multipart bodies, event envelopes."""

from __future__ import annotations

import struct
import uuid
import zlib
from collections.abc import Sequence

from casefold_events.contracts import AttachmentAdded, AttachmentRef, CaseClosed, CaseOpened
from casefold_events.contracts.base import Event
from casefold_events.envelope import Actor, Envelope, Metadata

BOUNDARY = "casefold-test-boundary-7f3a"


def png_bytes(extra: int = 0) -> bytes:
    """A real 1x1 PNG, padded with a trailing ancillary chunk of `extra` bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00")
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)
    if extra:
        body += chunk(b"teXt", b"pad\x00" + b"x" * extra)
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IEND", b"")


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120
PE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120
SHELL_SCRIPT = b"#!/bin/sh\nrm -rf /\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
LOG = "2026-11-27T10:00:00Z ERROR payment failed: ünïcödé ok\n".encode() * 20


def part(name: str, content: bytes, filename: str | None = None, content_type: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    return head.encode() + b"\r\n" + content + b"\r\n"


def multipart(parts: Sequence[bytes], *, close: bool = True) -> bytes:
    return b"".join(parts) + (f"--{BOUNDARY}--\r\n".encode() if close else b"")


def file_part(content: bytes, filename: str = "file.bin", content_type: str | None = None) -> bytes:
    return part("file", content, filename, content_type)


CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def envelope(event: Event, case_id: uuid.UUID, version: int, actor: uuid.UUID) -> Envelope:
    return Envelope.wrap(
        event,
        stream_id=str(case_id),
        stream_type="case",
        stream_version=version,
        metadata=Metadata(actor=Actor(user_id=actor, role="customer")),
    )


def ref(uploaded: dict[str, object]) -> AttachmentRef:
    """The AttachmentRef a cases service would record for an upload response item."""
    return AttachmentRef(
        attachment_id=uuid.UUID(str(uploaded["id"])),
        filename=str(uploaded["filename"]),
        size=int(str(uploaded["size"])),
        content_type=str(uploaded["content_type"]),
        sha256=str(uploaded["sha256"]),
    )


def case_opened(case_id: uuid.UUID, owner: uuid.UUID, attachments: Sequence[AttachmentRef] = ()) -> CaseOpened:
    return CaseOpened(
        case_id=case_id,
        number=1,
        product_id="casefold-cloud",
        product_name="Casefold Cloud",
        subject="It broke",
        description="Details",
        severity=2,
        prioritised=False,
        opened_by=owner,
        opened_by_role="customer",
        attachments=tuple(attachments),
    )


def attachment_added(case_id: uuid.UUID, by: uuid.UUID, attachment: AttachmentRef) -> AttachmentAdded:
    return AttachmentAdded(case_id=case_id, attachment=attachment, added_by=by, added_by_role="customer")


def case_closed(case_id: uuid.UUID, by: uuid.UUID) -> CaseClosed:
    return CaseClosed(case_id=case_id, closed_by=by, closed_by_role="customer")
