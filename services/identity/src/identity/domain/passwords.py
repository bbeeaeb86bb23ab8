"""Password policy and hashing (argon2id)."""

from __future__ import annotations

import contextlib
import gzip
import threading
from collections.abc import Iterator
from functools import cache
from importlib.resources import files

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from identity.domain.errors import invalid

MIN_LENGTH = 12
MAX_LENGTH = 256


@cache
def common_passwords() -> frozenset[str]:
    """The ~20,000 most common passwords (the list Django ships, see the README), case-folded."""
    data = (files("identity") / "data" / "common-passwords.txt.gz").read_bytes()
    return frozenset(line.strip().casefold() for line in gzip.decompress(data).decode().splitlines() if line.strip())


def check_password_policy(password: str, *, email: str, display_name: str, field: str = "password") -> None:
    """422 when the password is short, overlong, common, or built from the user's own email or name."""
    if len(password) < MIN_LENGTH:
        raise invalid(field, f"A password has at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise invalid(field, f"A password has at most {MAX_LENGTH} characters.")
    folded = password.casefold()
    if folded in common_passwords() or folded.strip("0123456789!?.") in common_passwords():
        raise invalid(field, "This password is too common; choose another.")
    local_part = email.partition("@")[0].casefold()
    name = "".join(display_name.casefold().split())
    for personal in (local_part, name):
        if len(personal) >= 3 and personal in "".join(folded.split()):
            raise invalid(field, "A password may not contain your email address or display name.")
    if len(set(password)) < 4:
        raise invalid(field, "This password is too easy to guess; use more different characters.")


class Passwords:
    """argon2id hashing, plus a dummy verification so that unknown emails cost the same time as known ones.

    It counts the argon2 operations running at once (`running`, and the highest so far in `peak`): each holds
    64 MiB (argon2-cffi's default memory cost), which is what the HashGate bounds.
    """

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        self._dummy_hash = self._hasher.hash("casefold dummy password for constant-time login")
        self._lock = threading.Lock()
        self.running = 0
        self.peak = 0

    @contextlib.contextmanager
    def _counted(self) -> Iterator[None]:
        with self._lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            yield
        finally:
            with self._lock:
                self.running -= 1

    def hash(self, password: str) -> str:
        with self._counted():
            return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True when the password matches; always spends one argon2 verification, even without a hash."""
        try:
            with self._counted():
                return self._hasher.verify(password_hash or self._dummy_hash, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)
