"""Idempotency keys for create-style commands: one key -> one result, whatever the number of retries.

claim() runs first in the command's transaction. A concurrent request with the same key blocks on the primary
key until the first transaction ends, then sees its stored result; so one key yields one event, one email.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import asyncpg

MAX_KEY_LENGTH = 200

CLAIM = """
    INSERT INTO idempotency_keys (scope, key, fingerprint) VALUES ($1, $2, $3)
    ON CONFLICT (scope, key) DO NOTHING
    RETURNING 1
"""
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
    row = await conn.fetchrow(STORED, scope, key)
    if row is None or row["status"] is None:  # pragma: no cover - the claimant committed without completing
        raise RuntimeError(f"idempotency key {key!r} was claimed but never completed")
    if row["fingerprint"] != request_fingerprint:
        raise IdempotencyKeyReused(key)
    return StoredResponse(row["status"], json.loads(row["response"]))


async def complete(conn: asyncpg.Connection, scope: str, key: str, status: int, body: Any) -> None:
    """Record the response that repeats of this key will get."""
    await conn.execute(COMPLETE, scope, key, status, json.dumps(body, default=str))
