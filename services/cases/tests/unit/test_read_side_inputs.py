"""Cursors, search terms and the app's surface, without servers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from casefold_platform.problems import InvalidInput
from cases.adapters.cursor import decode_cursor, encode_cursor
from cases.adapters.read_model import SearchTerms
from cases.config import Settings
from cases.domain.views import format_number
from cases.main import create_app


def test_cursor_round_trips() -> None:
    at, case_id = datetime(2026, 3, 1, 12, 30, 1, 123456, tzinfo=UTC), uuid.uuid4()

    assert decode_cursor(encode_cursor(at, case_id)) == (at, case_id)


@pytest.mark.parametrize("cursor", ["", "nope", "!!!", "Zm9vfGJhcg", "MjAyNi0wMS0wMXxub3QtYS11dWlk", "x" * 500])
def test_a_bad_cursor_is_422_naming_cursor(cursor: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_cursor(cursor)

    assert caught.value.extensions["errors"][0]["field"] == "cursor"


def test_search_terms_are_prefixes_of_each_word_plus_a_substring() -> None:
    terms = SearchTerms.parse("Prod DOWN!")

    assert terms.tsquery == "prod:* & down:*"
    assert terms.words == "prod down"
    assert terms.like is None
    assert SearchTerms.parse("duction").like == "%duction%"


def test_search_terms_never_carry_tsquery_syntax_and_escape_like_wildcards() -> None:
    terms = SearchTerms.parse("a:*|!(b)&50%_off")

    assert terms.tsquery == "a:* & b:* & 50:* & _off:*"
    assert terms.words == "a b 50 _off"
    assert terms.like == "%a:*|!(b)&50\\%\\_off%"


def test_short_fragments_do_not_use_the_substring_branch() -> None:
    assert SearchTerms.parse("ab").like is None
    assert SearchTerms.parse("ab").tsquery == "ab:*"


def test_case_numbers_are_zero_padded_to_8_digits() -> None:
    assert format_number(1042) == "00001042"
    assert format_number(123456789) == "123456789"


def test_production_refuses_the_dev_receipt_key() -> None:
    with pytest.raises(ValueError, match="CASES_RECEIPT_KEY"):
        Settings(environment="production")


def test_products_are_configurable_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASES_PRODUCTS", '[{"id": "widget", "name": "Widget"}]')

    assert [p.id for p in Settings().products] == ["widget"]


def test_healthz_answers() -> None:
    client = TestClient(create_app(Settings(environment="test")))

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "cases"}


def test_every_route_has_a_docstring() -> None:
    app = create_app(Settings(environment="test"))
    schema = app.openapi()

    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            assert operation.get("description"), f"{method.upper()} {path} has no docstring"
