"""Display names under UTS #39: the full confusable skeleton (case-folded, to a fixed point) decides uniqueness, and
names that mix scripts beyond Moderately Restrictive are refused."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casefold_platform.problems import InvalidInput
from identity.domain.confusables import _data, caseless_skeleton, confusables_version, skeleton
from identity.domain.display_names import clean_display_name, display_name_key
from identity.domain.scripts import RestrictionLevel, restriction_level

LISU_CASEFOLD_SUPPORT = "ꓚꓮꓢꓰꓝꓳꓡꓓ ꓢꓴꓑꓑꓳꓣꓔ"  # Lisu letters only: no Latin in it
CYRILLIC_I, DOTLESS_I = "\u0456", "\u0131"
# Every source in confusables.txt whose prototype is one ASCII letter or digit, by that prototype.
LOOKALIKES = {
    target: sorted(source for source, t in _data()[1].items() if t == target)
    for target in string.ascii_letters + string.digits
}
ASCII_NAME = st.text(alphabet=string.ascii_letters + string.digits, min_size=3, max_size=20)


def test_the_data_is_unicodes_confusables_file() -> None:
    assert confusables_version() == "13.0.0"
    assert skeleton("\u0430") == "a"  # CYRILLIC SMALL LETTER A
    assert skeleton("m") == "rn"


def test_cyrillic_i_collides_with_latin_i_and_a_name_mixing_them_is_refused() -> None:
    assert display_name_key(f"L{CYRILLIC_I}sa Ray") == display_name_key("Lisa Ray")
    with pytest.raises(InvalidInput, match="mix alphabets"):
        clean_display_name(f"L{CYRILLIC_I}sa Ray")
    # All Cyrillic: welcome, and still the same key as its Latin twin.
    assert display_name_key(clean_display_name("\u0455\u0456\u0430")) == display_name_key("sia")


def test_dotless_i_is_latin_and_collides_with_i() -> None:
    name = clean_display_name(f"adm{DOTLESS_I}n")
    assert display_name_key(name) == display_name_key("admin") == display_name_key("ADMIN")


def test_lisu_letters_that_render_as_casefold_support_collide_with_it() -> None:
    name = clean_display_name(LISU_CASEFOLD_SUPPORT)  # one script: allowed as such
    assert restriction_level(name) == RestrictionLevel.SINGLE_SCRIPT
    assert display_name_key(name) == display_name_key("CASEFOLD SUPPORT") == display_name_key("Casefold Support")


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("Casefold", RestrictionLevel.ASCII_ONLY),
        ("Иван Петров", RestrictionLevel.SINGLE_SCRIPT),
        ("José Álvarez", RestrictionLevel.SINGLE_SCRIPT),
        ("山田 たろう", RestrictionLevel.SINGLE_SCRIPT),  # Han + Hiragana: Japanese is one writing system
        ("José 山田", RestrictionLevel.HIGHLY_RESTRICTIVE),
        ("Ahmed أحمد", RestrictionLevel.MODERATELY_RESTRICTIVE),
        ("Pаypal", RestrictionLevel.MINIMALLY_RESTRICTIVE),  # Cyrillic а
        ("Alpha βeta", RestrictionLevel.MINIMALLY_RESTRICTIVE),  # Latin with Greek
        ("Иван أحمد", RestrictionLevel.MINIMALLY_RESTRICTIVE),  # two non-Latin scripts
    ],
)
def test_restriction_levels_follow_uts_39(name: str, level: RestrictionLevel) -> None:
    assert restriction_level(name) == level


def test_names_beyond_moderately_restrictive_are_refused_and_within_it_accepted() -> None:
    assert clean_display_name("Ahmed أحمد") == "Ahmed أحمد"
    assert clean_display_name("José 山田") == "José 山田"
    for mixed in ("Alpha βeta", "Иван أحمد", "ꓚasefold"):
        with pytest.raises(InvalidInput):
            clean_display_name(mixed)


@given(name=ASCII_NAME, data=st.data())
def test_a_name_with_letters_replaced_by_their_confusables_is_refused_or_collides(
    name: str, data: st.DataObject
) -> None:
    swapped = "".join(
        data.draw(st.sampled_from([char, *LOOKALIKES[char]])) if LOOKALIKES[char] else char for char in name
    )
    try:
        cleaned = clean_display_name(swapped)
    except InvalidInput:
        return
    assert display_name_key(cleaned) == display_name_key(name)


@given(name=ASCII_NAME)
def test_case_never_changes_the_key(name: str) -> None:
    assert display_name_key(name.upper()) == display_name_key(name.lower()) == display_name_key(name)


@given(text=st.text(max_size=24))
def test_the_caseless_skeleton_is_a_fixed_point(text: str) -> None:
    once = caseless_skeleton(text)
    assert caseless_skeleton(once) == once


@given(latin=st.text(alphabet=string.ascii_letters, min_size=3, max_size=12),
       cyrillic=st.sampled_from("аеорсхуіјѕԁһ"), at=st.integers(min_value=0))  # fmt: skip
def test_a_latin_name_with_a_cyrillic_letter_is_always_refused(latin: str, cyrillic: str, at: int) -> None:
    where = at % (len(latin) + 1)
    with pytest.raises(InvalidInput):
        clean_display_name(latin[:where] + cyrillic + latin[where:])


@given(name=st.text(alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Nd")), min_size=3, max_size=20))
def test_an_accepted_name_never_mixes_scripts_beyond_moderately_restrictive(name: str) -> None:
    try:
        cleaned = clean_display_name(name)
    except InvalidInput:
        return
    assert restriction_level(cleaned) <= RestrictionLevel.MODERATELY_RESTRICTIVE
