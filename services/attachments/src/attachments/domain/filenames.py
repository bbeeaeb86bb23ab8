"""Filenames as clients send them are untrusted: reduce one to a safe, displayable base name."""

from __future__ import annotations

import unicodedata

MAX_FILENAME_BYTES = 255
FALLBACK = "attachment"
# Path separators of every platform we might be served to; a full path keeps only its last part.
_SEPARATORS = ("/", "\\", "\u2215", "\u2044", "\u29f8", "\uff0f", "\uff3c")
_REPLACED = frozenset('<>:"|?*')


def _visible(ch: str) -> bool:
    # Cc: control characters; Cf: format characters (bidi overrides such as U+202E, zero-width joiners, BOM);
    # Co/Cn/Cs: private use, unassigned, surrogates. None of them belongs in a name a person reads.
    return unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cn", "Cs")


def _truncate(name: str) -> str:
    if len(name.encode()) <= MAX_FILENAME_BYTES:
        return name
    stem, dot, ext = name.rpartition(".")
    ext = dot + ext if dot and stem and len((dot + ext).encode()) <= 32 else ""
    stem = name[: len(name) - len(ext)] if ext else name
    budget = MAX_FILENAME_BYTES - len(ext.encode())
    kept = stem.encode()[:budget].decode(errors="ignore")
    return kept + ext


def sanitise_filename(raw: str | None) -> str:
    """NFKC, last path component only, no control/bidi/format characters, no leading dots, at most 255 bytes."""
    if not raw:
        return FALLBACK
    name = unicodedata.normalize("NFKC", raw)
    for separator in _SEPARATORS:
        name = name.replace(separator, "/")
    name = name.rsplit("/", 1)[-1]
    name = "".join(" " if ch.isspace() else ch for ch in name)
    name = "".join(("_" if ch in _REPLACED else ch) for ch in name if _visible(ch))
    name = " ".join(name.split())  # every run of whitespace (tabs, odd spaces) becomes one plain space
    name = name.strip(" .")
    if not name or set(name) <= {"_"}:
        return FALLBACK
    return _truncate(name)


def extension_of(filename: str) -> str:
    """The lower-case extension without the dot ("" when none)."""
    stem, dot, ext = filename.rpartition(".")
    return ext.lower() if dot and stem else ""
