"""Writes composed into one statement: CTE names made unique, parameters renumbered, results sliced per write."""

from __future__ import annotations

from casefold_events.writes import Write, compose


def test_each_write_keeps_its_own_names_and_parameters() -> None:
    first = Write(
        ctes=(("inserted", "INSERT INTO a VALUES ($1, $2) RETURNING 1"), ("queued", "SELECT 1 FROM inserted")),
        args=("x", "y"),
        results=("(SELECT count(*) FROM inserted)", "(SELECT count(*) FROM queued)"),
    )
    second = Write(ctes=(("inserted", "UPDATE b SET v = $2 WHERE id = $1"),), args=(1, 2))
    third = Write(ctes=(("done", "UPDATE c SET inserted_at = $1"),), args=(3,), results=("$1::int",))

    composed = compose([first, second, third])

    assert composed.sql == (
        "WITH w0_inserted AS (INSERT INTO a VALUES ($1, $2) RETURNING 1), "
        "w0_queued AS (SELECT 1 FROM w0_inserted), "
        "w1_inserted AS (UPDATE b SET v = $4 WHERE id = $3), "
        "w2_done AS (UPDATE c SET inserted_at = $5) "
        "SELECT (SELECT count(*) FROM w0_inserted), (SELECT count(*) FROM w0_queued), $5::int"
    )
    assert composed.slices == (slice(0, 2), slice(2, 2), slice(2, 3))


def test_a_column_that_only_starts_like_a_name_is_left_alone() -> None:
    write = Write(ctes=(("added", "INSERT INTO t (added_by, readded) VALUES ($1, $1) RETURNING added_at"),))

    assert compose([write]).sql == (
        "WITH w0_added AS (INSERT INTO t (added_by, readded) VALUES ($1, $1) RETURNING added_at) SELECT 1"
    )


def test_parameters_past_nine_are_renumbered_whole() -> None:
    many = Write(ctes=(("w", "SELECT " + ", ".join(f"${n}" for n in range(1, 12))),), args=tuple(range(11)))
    after = Write(ctes=(("v", "SELECT $1, $10"),), args=tuple(range(10)))

    sql = compose([many, after]).sql

    assert "w1_v AS (SELECT $12, $21)" in sql
    assert "$11)" in sql
    assert "$111" not in sql
