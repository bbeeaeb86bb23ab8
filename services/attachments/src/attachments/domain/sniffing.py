"""What a file is, decided by its content: an allow-list of signatures, UTF-8 text detection, active content refused.

The declared part Content-Type and the filename's extension are only checked against what the bytes say; they
never decide the type.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

SNIFF_BYTES = 8192


class NotAllowed(ValueError):
    """The content is of a type we refuse, or the name or declared type contradicts it."""


@dataclass(frozen=True)
class Kind:
    content_type: str
    extensions: frozenset[str]
    text: bool = False


PDF = Kind("application/pdf", frozenset({"pdf"}))
PNG = Kind("image/png", frozenset({"png"}))
JPEG = Kind("image/jpeg", frozenset({"jpg", "jpeg", "jpe", "jfif"}))
GIF = Kind("image/gif", frozenset({"gif"}))
WEBP = Kind("image/webp", frozenset({"webp"}))
ZIP = Kind("application/zip", frozenset({"zip", "docx", "xlsx", "pptx", "odt", "ods", "odp"}))
GZIP = Kind("application/gzip", frozenset({"gz", "tgz"}))
TEXT = Kind("text/plain", frozenset(), text=True)
CSV = Kind("text/csv", frozenset({"csv"}), text=True)
JSON = Kind("application/json", frozenset({"json"}), text=True)

ALLOWED_TYPES = (
    "application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp",
    "text/plain", "text/csv", "application/json", "application/zip", "application/gzip",
)  # fmt: skip

_BINARY_SIGNATURES: tuple[tuple[bytes, Kind], ...] = (
    (b"%PDF-", PDF),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
    (b"PK\x03\x04", ZIP),
    (b"PK\x05\x06", ZIP),  # an empty archive
    (b"\x1f\x8b", GZIP),
)

_EXECUTABLE_SIGNATURES = (
    b"\x7fELF",  # Linux and most Unixes
    b"MZ",  # Windows PE / DOS
    b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe",  # Mach-O
    b"\xca\xfe\xba\xbe",  # Mach-O universal binary (also Java class files)
    b"\x00asm",  # WebAssembly
    b"#!",  # a script with an interpreter line
)  # fmt: skip

# Markup a browser would run if it were ever rendered inline (we never do, but a copy saved and opened might).
_ACTIVE_MARKERS = (b"<!doctype html", b"<html", b"<script", b"<svg", b"<?xml", b"<body", b"<iframe", b"<head")

# Names that an operating system would run or a browser render, whatever the bytes are.
DANGEROUS_EXTENSIONS = frozenset(
    {
        "exe", "dll", "com", "scr", "msi", "msp", "bat", "cmd", "ps1", "psm1", "vbs", "vbe", "js", "jse", "mjs",
        "wsf", "wsh", "hta", "cpl", "jar", "app", "dmg", "pkg", "deb", "rpm", "sh", "bash", "zsh", "csh", "ksh",
        "command", "run", "bin", "elf", "so", "dylib", "lnk", "reg", "scf", "inf", "html", "htm", "xhtml", "shtml",
        "svg", "svgz", "xml", "xsl", "php", "phtml", "asp", "aspx", "jsp", "py", "pl", "rb", "apk", "iso", "msc",
    }
)  # fmt: skip

_BINARY_EXTENSIONS = frozenset().union(*(kind.extensions for _, kind in _BINARY_SIGNATURES), WEBP.extensions)
_TEXT_DECLARATIONS = frozenset({"text/plain", "text/csv", "application/json", "text/x-log", "text/log"})
_NEUTRAL_DECLARATIONS = frozenset({"", "application/octet-stream", "binary/octet-stream"})
_ALLOWED_CONTROLS = frozenset(b"\t\n\r\f\x1b")


def _allowed_list() -> str:
    return ", ".join(ALLOWED_TYPES)


def _binary_kind(head: bytes) -> Kind | None:
    for signature, kind in _BINARY_SIGNATURES:
        if head.startswith(signature):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    return None


def _looks_active(head: bytes) -> bool:
    start = head.removeprefix(codecs.BOM_UTF8).lstrip()[:512].lower()
    return any(start.startswith(marker) for marker in _ACTIVE_MARKERS) or b"<script" in head[:4096].lower()


class TextCheck:
    """Incremental check that a whole stream is UTF-8 text without NULs or unusual control bytes."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
        self.ok = True

    def feed(self, chunk: bytes, final: bool = False) -> None:
        if not self.ok:
            return
        try:
            self._decoder.decode(chunk, final=final)
        except UnicodeDecodeError:
            self.ok = False
            return
        if chunk.translate(None, bytes(range(32, 256))).translate(None, bytes(_ALLOWED_CONTROLS)):
            self.ok = False


def is_text(head: bytes, complete: bool) -> bool:
    """Whether the first bytes of a file (all of it when complete) read as UTF-8 text."""
    check = TextCheck()
    check.feed(head, final=complete)
    return check.ok


def _text_kind(extension: str, declared: str) -> Kind:
    if declared == "text/csv" or extension == "csv":
        return CSV
    if declared == "application/json" or extension == "json":
        return JSON
    return TEXT


def classify(head: bytes, *, complete: bool, filename_extension: str, declared: str) -> Kind:
    """The kind of a file from its first bytes; NotAllowed (naming the allowed types) when we refuse it."""
    declared = declared.split(";", 1)[0].strip().lower()
    if filename_extension in DANGEROUS_EXTENSIONS:
        raise NotAllowed(
            f"Files named .{filename_extension} are not accepted, whatever they contain. "
            f"Allowed types: {_allowed_list()}."
        )
    if any(head.startswith(signature) for signature in _EXECUTABLE_SIGNATURES):
        raise NotAllowed(f"Executables and scripts are not accepted. Allowed types: {_allowed_list()}.")
    kind = _binary_kind(head)
    if kind is None:
        if _looks_active(head):
            raise NotAllowed(f"HTML, SVG and XML documents are not accepted. Allowed types: {_allowed_list()}.")
        if not is_text(head, complete):
            raise NotAllowed(f"This type of file is not accepted. Allowed types: {_allowed_list()}.")
        if declared not in _NEUTRAL_DECLARATIONS and declared not in _TEXT_DECLARATIONS:
            raise NotAllowed(
                f"The file was declared as {declared} but its content is text. Allowed types: {_allowed_list()}."
            )
        if filename_extension in _BINARY_EXTENSIONS:
            raise NotAllowed(
                f"The file is named .{filename_extension} but its content is text. Allowed types: {_allowed_list()}."
            )
        return _text_kind(filename_extension, declared)
    if declared not in _NEUTRAL_DECLARATIONS and declared != kind.content_type and not _alias(declared, kind):
        raise NotAllowed(
            f"The file was declared as {declared} but its content is {kind.content_type}. "
            f"Allowed types: {_allowed_list()}."
        )
    if filename_extension and filename_extension not in kind.extensions:
        raise NotAllowed(
            f"The file is named .{filename_extension} but its content is {kind.content_type}. "
            f"Allowed types: {_allowed_list()}."
        )
    return kind


_ALIASES = {
    "image/jpg": JPEG,
    "image/pjpeg": JPEG,
    "application/x-zip-compressed": ZIP,
    "application/x-gzip": GZIP,
    "application/x-pdf": PDF,
}


def _alias(declared: str, kind: Kind) -> bool:
    if _ALIASES.get(declared) is kind:
        return True
    # Office documents are ZIP containers; browsers declare them by their own types.
    return kind is ZIP and declared.startswith(("application/vnd.openxmlformats-", "application/vnd.oasis."))
