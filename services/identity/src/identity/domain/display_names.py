"""Display names: NFKC-normalised, case-folded and de-confused into a key that must be unique."""

from __future__ import annotations

import unicodedata

from identity.domain.errors import invalid

MIN_LENGTH = 3
MAX_LENGTH = 32
_ALLOWED_PUNCTUATION = frozenset(" ._-'")
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp", "Me"})
# Scripts whose letters are routinely mistaken for Latin ones: a name may use one of them, never a mix.
_CONFUSABLE_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")

# A small skeleton (after UTS #39): letters and digits that render like Latin ones map to them, so that
# "раypal" (Cyrillic р, а) and "paypal", or "admin" and "adm1n", get the same key.
_SKELETON = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
        "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w",
        "ь": "b", "һ": "h", "ո": "n", "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v",
        "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ω": "w", "0": "o", "1": "l", "|": "l",
        "i": "l", "5": "s", "_": "-", ".": "-", "'": "",
    }
)  # fmt: skip


def _script(char: str) -> str | None:
    if not char.isalpha():
        return None
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0] if name else "UNKNOWN"


def clean_display_name(raw: str, field: str = "display_name") -> str:
    """The name as shown (NFKC, single spaces, trimmed); 422 naming the rule it breaks."""
    name = " ".join(unicodedata.normalize("NFKC", raw).split())
    if not MIN_LENGTH <= len(name) <= MAX_LENGTH:
        raise invalid(field, f"A display name has {MIN_LENGTH} to {MAX_LENGTH} characters.")
    if any(unicodedata.category(char) in _FORBIDDEN_CATEGORIES for char in name):
        raise invalid(field, "A display name may not contain control, invisible or formatting characters.")
    scripts = {s for s in map(_script, name) if s is not None}
    confusable = scripts & set(_CONFUSABLE_SCRIPTS)
    if len(scripts) > 1 and confusable:
        raise invalid(field, "A display name may not mix alphabets (for example Latin with Cyrillic or Greek).")
    previous = " "
    for char in name:
        if unicodedata.category(char) in ("Mn", "Mc"):
            # Accents on Latin, Cyrillic and Greek compose under NFKC; a mark left over is stacking (abuse).
            if confusable or not previous.isalpha():
                raise invalid(field, "A display name may not stack combining marks.")
        elif not (char.isalnum() or char in _ALLOWED_PUNCTUATION):
            raise invalid(field, "A display name uses letters, digits, spaces and . _ - ' only.")
        previous = char
    if not any(char.isalnum() for char in name):
        raise invalid(field, "A display name needs at least one letter or digit.")
    return name


def display_name_key(name: str) -> str:
    """Uniqueness key: case-folded, de-confused, without spaces, so look-alikes collide."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(folded.translate(_SKELETON).split())
