"""Errors that mean "a dependency is down for now": retrying later works, so they delay work and never drop it.

Consumers retry TRANSIENT failures without limit (consumer.py); a request that meets an UNAVAILABLE error is
answered 503 with Retry-After (casefold_platform.problems): its transaction rolled back, so nothing is half-written
and the client may simply try again (with its Idempotency-Key, where the endpoint takes one).

It lives here, not in the platform, because the consumer runner needs it and the events package never imports the
platform; the platform's problem handlers import it from here.
"""

from __future__ import annotations

import asyncpg


class TransientError(Exception):
    """Raise when retrying later may succeed (a dependency is down); retried without limit by consumers."""


# A dependency could not be reached, or the database is shutting down, starting up or full of connections.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    TransientError,
    ConnectionError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.ConnectionDoesNotExistError,
)

# What a consumer retries without counting attempts: the above, any OS-level I/O error, a broken connection, and
# the database's "try again" answers.
TRANSIENT: tuple[type[BaseException], ...] = (
    *UNAVAILABLE,
    OSError,
    asyncpg.InterfaceError,
    # A pooled connection left mid-operation when the server went away under it ("cannot switch to state ...;
    # another operation is in progress"): seen once in a database restart test; the pool replaces the connection.
    asyncpg.exceptions.InternalClientError,
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
)
