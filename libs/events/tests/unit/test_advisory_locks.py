"""One table of advisory-lock keys: distinct keys, spaces that cannot meet, and no key spelled anywhere else."""

from __future__ import annotations

import re
from pathlib import Path

from casefold_events import locks

REPO = Path(__file__).resolve().parents[4]
INT4_MAX = 2**31 - 1
# A pg_advisory_* call whose key is written in place (a number or a hash expression) instead of read from the table.
SPELLED_KEY = re.compile(r"pg_(?:try_)?advisory_\w*\(\s*(?:-?\d|hashtext)")


def test_fixed_keys_are_distinct() -> None:
    keys = [lock.key for lock in locks.FIXED]
    assert len(set(keys)) == len(keys)


def test_fixed_keys_lie_outside_the_int4_range_of_hashtext_keys() -> None:
    assert all(lock.key > INT4_MAX for lock in locks.FIXED)


def test_keyed_spaces_hash_distinct_expressions() -> None:
    expressions = [space.key_sql for space in locks.KEYED]
    assert len(set(expressions)) == len(expressions)


def test_every_lock_names_its_owner_module() -> None:
    for owner in [lock.owner for lock in locks.FIXED] + [space.owner for space in locks.KEYED]:
        package = owner.split(".")[0]
        module = Path(*owner.split(".")).with_suffix(".py")
        assert any(REPO.glob(f"*/*/src/{module}")), f"{owner} is not a module ({package})"


def test_no_module_spells_a_lock_key_outside_the_table() -> None:
    spelled = [
        f"{path.relative_to(REPO)}:{number}"
        for path in REPO.glob("*/*/src/**/*.py")
        if path.name != "locks.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if SPELLED_KEY.search(line)
    ]
    assert spelled == []


def test_the_table_lists_every_lock_it_defines() -> None:
    defined = {value for value in vars(locks).values() if isinstance(value, locks.FixedLock | locks.KeyedLocks)}
    assert defined == {*locks.FIXED, *locks.KEYED}
