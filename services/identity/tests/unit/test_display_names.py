"""Display names: normalised, unique after case folding, and look-alikes refused or colliding."""

from __future__ import annotations

import pytest

from casefold_platform.problems import InvalidInput
from identity.domain.display_names import clean_display_name, display_name_key


def test_names_are_nfkc_normalised_and_spaces_collapsed() -> None:
    assert clean_display_name("  Ｊｏｈｎ   Ｄｏｅ ") == "John Doe"


def test_case_does_not_make_a_name_different() -> None:
    assert display_name_key("John Doe") == display_name_key("JOHN DOE") == display_name_key("john doe")


@pytest.mark.parametrize("lookalike", ["Аdmin", "аdmin", "adm1n", "ADMIN", "admın", "a d m i n"])
def test_look_alikes_share_a_key_or_are_refused(lookalike: str) -> None:
    try:
        cleaned = clean_display_name(lookalike)
    except InvalidInput:
        return
    assert display_name_key(cleaned) == display_name_key("admin")


def test_all_cyrillic_name_collides_with_its_latin_twin() -> None:
    assert display_name_key(clean_display_name("сорру")) == display_name_key("coppy")


@pytest.mark.parametrize(
    "bad",
    [
        "ab",
        "x" * 33,
        "Bob\u200bby",  # zero-width space
        "Bob\u202eby",  # right-to-left override
        "Bo\x00b",
        "Pаypal",  # Latin P with Cyrillic а
        "Zalgo\u0301\u0301",
        "<script>",
        "...",
    ],
)
def test_abusive_names_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        clean_display_name(bad)


def test_names_in_one_other_script_are_welcome() -> None:
    assert clean_display_name("Иван Петров") == "Иван Петров"
    assert clean_display_name("山田太郎") == "山田太郎"
    assert clean_display_name("José O'Neil") == "José O'Neil"
