"""The prefix index's functions (migration 0009's loops) give the keys of 0008's queries: every prefix of every word, up
to 10 characters, as a set, and the probe's lexemes cut to 10 characters."""

from __future__ import annotations

import asyncpg
import pytest

pytestmark = pytest.mark.integration

# 0008's bodies, the definition the index was built by
PREFIXES_0008 = """
    SELECT coalesce(array_agg(DISTINCT left(w, n)), '{}')
    FROM unnest(tsvector_to_array(to_tsvector('simple', $1))) AS w, generate_series(1, least(length(w), 10)) AS n
"""
PROBE_0008 = """
    SELECT coalesce(array_agg(DISTINCT left(w, 10)), '{}')
    FROM unnest(tsvector_to_array(to_tsvector('simple', $1))) AS w
"""

SUBJECTS = [
    "",
    "a",
    "Login timeout",
    "login logout log logging logistics",
    "Production Down: checkout fails on checkout-page",
    "internationalisation internationalization international",
    "Überweisung über Übermittlung",
    "日本語 の テスト 日本",
    "x x x x",
    "abcdefghijklmnop abcdefghijklmnoq abcdefghij abcdefghi",
    "e-mail 404 4040 v2.3.1 user@example.com",
]


@pytest.mark.parametrize("subject", SUBJECTS)
async def test_the_prefixes_are_0008s_keys_each_once(pool: asyncpg.Pool, subject: str) -> None:
    expected = await pool.fetchval(PREFIXES_0008, subject)
    keys = await pool.fetchval("SELECT cases_subject_prefixes(to_tsvector('simple', $1))", subject)

    assert sorted(keys) == sorted(expected)
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("subject", SUBJECTS)
async def test_the_probe_is_0008s_probe(pool: asyncpg.Pool, subject: str) -> None:
    expected = await pool.fetchval(PROBE_0008, subject)
    probe = await pool.fetchval("SELECT cases_subject_probe($1)", subject)

    assert sorted(probe) == sorted(expected)
    assert len(probe) == len(set(probe))
