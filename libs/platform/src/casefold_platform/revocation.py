"""Refusing access tokens of ended sessions: a cached copy of identity's revocation list.

Identity lists the jti of every unexpired access token whose session ended (logout, refresh-token reuse, password
change) at GET /internal/identity/revoked-tokens (not routed by the gateway). Each service polls it, at most every
`max_age` seconds and only when a request needs it, and plugs `is_revoked` into its JwksVerifier. When identity
cannot be reached the last list stays in force (fail open to the last known state, logged): tokens live 15 minutes,
and refusing every request while identity restarts would be the bigger harm.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
from collections.abc import Callable

import httpx
import structlog

log = structlog.get_logger("casefold.auth")


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default TLS context, built once: building it loads the CA bundle, tens of milliseconds of the event
    loop, and a fresh client per refresh (every few seconds under load) built it each time."""
    return httpx.create_ssl_context()


class RevocationList:
    """`await revocations.is_revoked(jti)`: True for a token identity has revoked."""

    def __init__(
        self,
        url: str,
        *,
        max_age: float = 5.0,
        timeout: float = 2.0,
        http_client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.max_age = max_age
        self._timeout = timeout
        self._http_client = http_client
        self._clock = clock
        self._jtis: frozenset[str] = frozenset()
        self._checked_at = float("-inf")
        self._lock = asyncio.Lock()

    async def is_revoked(self, jti: str) -> bool:
        if self._clock() - self._checked_at >= self.max_age:
            async with self._lock:
                if self._clock() - self._checked_at >= self.max_age:  # another request may have just refreshed
                    await self._refresh()
        return jti in self._jtis

    async def _refresh(self) -> None:
        self._checked_at = self._clock()
        try:
            if self._http_client is not None:
                response = await self._http_client.get(self.url, timeout=self._timeout)
            else:
                async with httpx.AsyncClient(timeout=self._timeout, verify=tls_context()) as client:
                    response = await client.get(self.url)
            response.raise_for_status()
            self._jtis = frozenset(str(entry["jti"]) for entry in response.json()["revoked"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            log.warning("revocation_list_unavailable", url=self.url, error=type(exc).__name__)
