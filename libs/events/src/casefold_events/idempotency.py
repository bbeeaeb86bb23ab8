"""Idempotency keys for create-style commands: one key -> one result, whatever the number of retries.

claim() runs first in the command's transaction. A concurrent request with the same key blocks on the primary
key until the first transaction ends, then sees its stored result; so one key yields one event, one email.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from casefold_events import writes
from casefold_events.writes import Write, Writes

MAX_KEY_LENGTH = 200

CLAIM = """
    INSERT INTO idempotency_keys (scope, key, fingerprint) VALUES ($1, $2, $3)
    ON CONFLICT (scope, key) DO NOTHING
    RETURNING 1
"""
# CLAIM, and expressions evaluated only when the key is new (a sequence's nextval: no number for a repeat; a read
# the command needs next, riding on the same round trip).
CLAIM_WITH = """
    WITH claimed AS (
        INSERT INTO idempotency_keys (scope, key, fingerprint) VALUES ($1, $2, $3)
        ON CONFLICT (scope, key) DO NOTHING
        RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM claimed){values}
"""
_WHEN_NEW = ", CASE WHEN EXISTS (SELECT 1 FROM claimed) THEN {} END"
STORED = "SELECT fingerprint, status, response::text AS response FROM idempotency_keys WHERE scope = $1 AND key = $2"
COMPLETE = "UPDATE idempotency_keys SET status = $3, response = $4::jsonb WHERE scope = $1 AND key = $2"


class IdempotencyKeyReused(Exception):
    """The same key was sent with a different request."""


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Any


def fingerprint(payload: Any) -> str:
    """A stable hash of the request a key was first used with."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


async def claim(conn: asyncpg.Connection, scope: str, key: str, request_fingerprint: str) -> StoredResponse | None:
    """None: the key is new and now ours (call complete() before commit). Else the first request's response."""
    if not conn.is_in_transaction():
        raise RuntimeError("claim() must run inside the command's transaction")
    if await conn.fetchval(CLAIM, scope, key, request_fingerprint):
        return None
    return await _stored(conn, scope, key, request_fingerprint)


async def _stored(conn: asyncpg.Connection, scope: str, key: str, request_fingerprint: str) -> StoredResponse:
    row = await conn.fetchrow(STORED, scope, key)
    if row is None or row["status"] is None:  # pragma: no cover - the claimant committed without completing
        raise RuntimeError(f"idempotency key {key!r} was claimed but never completed")
    if row["fingerprint"] != request_fingerprint:
        raise IdempotencyKeyReused(key)
    return StoredResponse(row["status"], json.loads(row["response"]))


async def claim_with(
    conn: asyncpg.Connection,
    scope: str,
    key: str,
    request_fingerprint: str,
    expressions: Sequence[str],
    args: Sequence[Any] = (),
) -> tuple[StoredResponse | None, tuple[Any, ...] | None]:
    """claim(), and in the same statement the values of SQL expressions when the key is new (else None).

    The expressions are the caller's SQL, never a client's; their parameters are args, numbered from $4 (the claim
    takes $1-$3).
    """
    if not conn.is_in_transaction():
        raise RuntimeError("claim_with() must run inside the command's transaction")
    values = "".join(_WHEN_NEW.format(e) for e in expressions)
    row = await conn.fetchrow(CLAIM_WITH.format(values=values), scope, key, request_fingerprint, *args)
    assert row is not None
    if row[0]:
        return None, tuple(row[1:])
    return await _stored(conn, scope, key, request_fingerprint), None


async def complete(
    conn: asyncpg.Connection, scope: str, key: str, status: int, body: Any, *, defer: Writes | None = None
) -> None:
    """Record the response that repeats of this key will get (with defer: with the transaction's other writes)."""
    args = (scope, key, status, json.dumps(body, default=str))
    await writes.run(conn, Write(ctes=(("completion", COMPLETE),), args=args), defer)
