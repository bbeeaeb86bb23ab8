"""Every PostgreSQL advisory-lock key Casefold takes, in one table, with the module that owns it.

Advisory locks are scoped to one database, but the shared ones (migrations, relay) are taken in every service's
database beside the service's own, so all keys live here: a new one is added to this table and a unit test proves the
keys distinct. Fixed keys are bigints above the int4 range, so they never meet a `hashtext()` key (an int4); keyed
spaces hash a prefix and the resource id with `hashtextextended`, the prefix keeping two spaces apart.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FixedLock:
    """One lock for one job, on a constant key."""

    key: int
    owner: str  # the module that takes it
    purpose: str


@dataclass(frozen=True)
class KeyedLocks:
    """One lock per resource: `key_sql` computes the key in SQL from the statement's $1."""

    key_sql: str
    owner: str
    purpose: str


MIGRATIONS = FixedLock(7_302_118_861, "casefold_events.migrate", "serialises migrators (replicas starting together)")
RELAY_LEADER = FixedLock(7_302_118_862, "casefold_events.relay", "one active outbox relay per database")
SIGNING_KEY_BOOTSTRAP = FixedLock(
    7_302_118_863, "identity.bootstrap", "two identity replicas starting together generate one first signing key"
)
CASES_READ_MODEL_WRITERS = FixedLock(
    0x0CA5E5_0001,
    "cases.adapters.projection",
    "command transactions hold it shared; the read-model rebuild takes it exclusively to catch up and swap",
)

# hashtext() is an int4 and every fixed key is above 2**31, so this space never meets a fixed key.
RATE_LIMIT_BUCKET = KeyedLocks(
    "hashtext($1)", "identity.adapters.rate_limits", "serialises one rate-limit bucket's counters across replicas"
)
ATTACHMENT_BLOB = KeyedLocks(
    "hashtextextended('blob:' || $1, 0)", "attachments.adapters.repository", "one blob (by sha256) at a time"
)
ATTACHMENT_CASE = KeyedLocks(
    "hashtextextended('case:' || $1::uuid::text, 0)", "attachments.adapters.repository", "one case's links at a time"
)
DISPLAY_NAME_KEY = KeyedLocks(
    "hashtextextended('display-name:' || $1, 0)",
    "identity.adapters.users",
    "one display-name key (UTS #39 skeleton) claimed at a time: sign-ups and renames of look-alike names serialise",
)

FIXED: tuple[FixedLock, ...] = (MIGRATIONS, RELAY_LEADER, SIGNING_KEY_BOOTSTRAP, CASES_READ_MODEL_WRITERS)
KEYED: tuple[KeyedLocks, ...] = (RATE_LIMIT_BUCKET, ATTACHMENT_BLOB, ATTACHMENT_CASE, DISPLAY_NAME_KEY)
