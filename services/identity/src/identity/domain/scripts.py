"""UTS #39 restriction levels (section 5.2) from the characters' Script_Extensions (Unicode data of fontTools)."""

from __future__ import annotations

import enum
import unicodedata

from fontTools import unicodedata as ucd

COMMON = frozenset({"Zyyy", "Zinh"})
# UAX #31 Table 4, the Recommended scripts: the only partners of Latin at Moderately Restrictive.
_RECOMMENDED_CODES = """Arab Armn Beng Bopo Cyrl Deva Ethi Geor Grek Gujr Guru Hang Hani Hebr Hira Kana Khmr Knda Laoo
    Latn Mlym Mymr Orya Sinh Taml Telu Thaa Thai Tibt"""
RECOMMENDED = frozenset(_RECOMMENDED_CODES.split())
# The writing systems UTS #39 counts as one script (5.1: augmented script sets).
_AUGMENT = {"Hani": {"Hanb", "Jpan", "Kore"}, "Hira": {"Jpan"}, "Kana": {"Jpan"}, "Hang": {"Kore"}, "Bopo": {"Hanb"}}
_HIGHLY_RESTRICTIVE_COVERS = tuple(
    frozenset({"Latn", "Hani", *others}) for others in (("Hira", "Kana"), ("Bopo",), ("Hang",))
)


class RestrictionLevel(enum.IntEnum):
    """Lower is stricter; a string at one level also passes every laxer level."""

    ASCII_ONLY = 1
    SINGLE_SCRIPT = 2
    HIGHLY_RESTRICTIVE = 3
    MODERATELY_RESTRICTIVE = 4
    MINIMALLY_RESTRICTIVE = 5


def script_extensions(char: str) -> frozenset[str]:
    """The character's Script_Extensions; empty for Common and Inherited (they go with any script)."""
    scripts = frozenset(ucd.script_extension(char))
    return frozenset() if scripts & COMMON else scripts


def _augmented(scripts: frozenset[str]) -> frozenset[str]:
    return scripts.union(*(_AUGMENT.get(s, ()) for s in scripts))


def scripts_of(text: str) -> list[frozenset[str]]:
    """Script_Extensions of each character that has a script (Common and Inherited left out)."""
    return [s for s in map(script_extensions, text) if s]


def _covered(sets: list[frozenset[str]], cover: frozenset[str]) -> bool:
    return all(s & cover for s in sets)


def restriction_level(text: str) -> RestrictionLevel:
    """The strictest UTS #39 level the text meets (identifier-profile checks are display_names' own)."""
    if text.isascii():
        return RestrictionLevel.ASCII_ONLY
    sets = scripts_of(text)
    resolved: frozenset[str] | None = None
    for scripts in sets:
        augmented = _augmented(scripts)
        resolved = augmented if resolved is None else resolved & augmented
    if resolved is None or resolved:
        return RestrictionLevel.SINGLE_SCRIPT
    if any(_covered(sets, cover) for cover in _HIGHLY_RESTRICTIVE_COVERS):
        return RestrictionLevel.HIGHLY_RESTRICTIVE
    if any(_covered(sets, frozenset({"Latn", p})) for p in RECOMMENDED - {"Latn", "Cyrl", "Grek"}):
        return RestrictionLevel.MODERATELY_RESTRICTIVE
    return RestrictionLevel.MINIMALLY_RESTRICTIVE


def mixed_digits(text: str) -> bool:
    """UTS #39 5.3: decimal digits from more than one numbering system (e.g. Arabic-Indic beside ASCII)."""
    zeros = {ord(c) - unicodedata.digit(c) for c in text if unicodedata.category(c) == "Nd"}
    return len(zeros) > 1
