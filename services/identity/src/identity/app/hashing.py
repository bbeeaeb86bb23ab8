"""A gate in front of argon2: each operation takes 64 MiB, so only a few may run at once; the rest queue, then 503."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from casefold_platform.problems import DomainError
from identity.domain.passwords import Passwords

T = TypeVar("T")


class HashingBusy(DomainError):
    """Every argon2 slot is busy and the queue is full: the request was not attempted; retry after a moment."""

    status = 503
    slug = "password-hashing-busy"
    title = "Service busy"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "Too many password checks are running; try again in a moment.",
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
        )


class HashGate:
    """At most `concurrency` argon2 operations run (in threads); up to `queue` more wait; beyond that, HashingBusy."""

    def __init__(self, passwords: Passwords, *, concurrency: int, queue: int, retry_after: int) -> None:
        self.passwords = passwords
        self._slots = asyncio.Semaphore(concurrency)
        self._capacity = concurrency + queue
        self._retry_after = retry_after
        self.admitted = 0  # running + waiting

    async def run(self, work: Callable[[], T]) -> T:
        """Run one argon2 operation in a thread once a slot is free; HashingBusy when the queue is full."""
        # Admission is decided at once, before any await: a full gate answers 503 instead of growing a backlog.
        if self.admitted >= self._capacity:
            raise HashingBusy(self._retry_after)
        self.admitted += 1
        try:
            async with self._slots:
                return await asyncio.to_thread(work)
        finally:
            self.admitted -= 1

    async def hash(self, password: str) -> str:
        return await self.run(lambda: self.passwords.hash(password))

    async def verify(self, password_hash: str | None, password: str) -> bool:
        return await self.run(lambda: self.passwords.verify(password_hash, password))
