"""Display names: NFKC-normalised, in one script (UTS #39 Moderately Restrictive), and unique by their confusable
skeleton (UTS #39, case-folded, to a fixed point)."""

from __future__ import annotations

import unicodedata

from identity.domain.confusables import caseless_skeleton
from identity.domain.errors import invalid
from identity.domain.scripts import RestrictionLevel, mixed_digits, restriction_level, scripts_of

# 1: the small hand-written skeleton before issue 15; 2: Unicode's confusables.txt, case-folded, to a fixed point.
DISPLAY_KEY_VERSION = 2
MIN_LENGTH = 3
MAX_LENGTH = 32
# The strictest level that still welcomes names in any one script and Latin beside Han, kana, Hangul, Arabic, ...:
# Latin mixed with Cyrillic or Greek (the look-alike alphabets), or any two non-Latin scripts, is refused.
REQUIRED_LEVEL = RestrictionLevel.MODERATELY_RESTRICTIVE
_ALLOWED_PUNCTUATION = frozenset(" ._-'")
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp", "Me"})
# Their accents compose under NFKC, so a mark left over on them is stacking (abuse).
_PRECOMPOSED_SCRIPTS = frozenset({"Latn", "Cyrl", "Grek"})
# Punctuation that passes the character rules and looks alike, beyond what confusables.txt maps.
_PUNCTUATION_KEY = str.maketrans({"_": "-", ".": "-", "'": ""})


def clean_display_name(raw: str, field: str = "display_name") -> str:
    """The name as shown (NFKC, single spaces, trimmed); 422 naming the rule it breaks."""
    name = " ".join(unicodedata.normalize("NFKC", raw).split())
    if not MIN_LENGTH <= len(name) <= MAX_LENGTH:
        raise invalid(field, f"A display name has {MIN_LENGTH} to {MAX_LENGTH} characters.")
    if any(unicodedata.category(char) in _FORBIDDEN_CATEGORIES for char in name):
        raise invalid(field, "A display name may not contain control, invisible or formatting characters.")
    if restriction_level(name) > REQUIRED_LEVEL:
        raise invalid(field, "A display name may not mix alphabets (for example Latin with Cyrillic or Greek).")
    if mixed_digits(name):
        raise invalid(field, "A display name may not mix digits of different numbering systems.")
    precomposed = any(s & _PRECOMPOSED_SCRIPTS for s in scripts_of(name))
    previous = " "
    for char in name:
        if unicodedata.category(char) in ("Mn", "Mc"):
            if precomposed or not previous.isalpha():
                raise invalid(field, "A display name may not stack combining marks.")
        elif not (char.isalnum() or char in _ALLOWED_PUNCTUATION):
            raise invalid(field, "A display name uses letters, digits, spaces and . _ - ' only.")
        previous = char
    if not any(char.isalnum() for char in name):
        raise invalid(field, "A display name needs at least one letter or digit.")
    return name


def display_name_key(name: str) -> str:
    """Uniqueness key: the case-folded confusable skeleton to a fixed point, without spaces, so look-alikes collide."""
    folded = caseless_skeleton(unicodedata.normalize("NFKC", name))
    return "".join(folded.translate(_PUNCTUATION_KEY).split())
