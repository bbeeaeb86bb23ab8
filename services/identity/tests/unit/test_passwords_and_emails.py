"""Password policy, argon2id hashing and email normalisation."""

from __future__ import annotations

from typing import Literal

import pytest
from argon2 import PasswordHasher

from casefold_platform.problems import InvalidInput
from identity.domain.emails import email_key, normalise_email
from identity.domain.passwords import Passwords, check_password_policy, common_passwords


def test_the_common_password_list_is_shipped() -> None:
    assert len(common_passwords()) > 10_000
    assert "password" in common_passwords()


@pytest.mark.parametrize(
    "password",
    ["short", "password1234", "Password1234!", "qwertyuiop123", "aaaaaaaaaaaaaaa", "alice.smith-secret-1", "x" * 300],
)
def test_weak_passwords_are_refused(password: str) -> None:
    with pytest.raises(InvalidInput):
        check_password_policy(password, email="alice.smith@example.com", display_name="Ally Cat")


def test_a_password_containing_the_display_name_is_refused() -> None:
    with pytest.raises(InvalidInput):
        check_password_policy("my ally cat is great", email="a@example.com", display_name="Ally Cat")


def test_a_strong_password_passes() -> None:
    check_password_policy("correct horse battery staple", email="alice@example.com", display_name="Alice")


def test_hashes_are_argon2id_and_verify() -> None:
    passwords = Passwords()
    hashed = passwords.hash("correct horse battery staple")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify(hashed, "correct horse battery staple")
    assert not passwords.verify(hashed, "wrong horse battery staple")


def test_verifying_without_a_hash_fails_but_still_runs() -> None:
    assert not Passwords().verify(None, "casefold dummy password for constant-time login")


class CountingHasher(PasswordHasher):
    """Counts argon2 verifications: the work that makes a login slow, whatever the account."""

    def __init__(self) -> None:
        super().__init__()
        self.verifications: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verifications.append(str(hash))
        return super().verify(hash, password)


def test_an_unknown_account_costs_the_same_argon2_work_as_a_wrong_password() -> None:
    hasher = CountingHasher()
    passwords = Passwords(hasher)
    known = passwords.hash("correct horse battery staple")

    assert not passwords.verify(known, "wrong password 123")
    assert not passwords.verify(None, "wrong password 123")

    # One full verification each, both against argon2id hashes with the same parameters.
    assert len(hasher.verifications) == 2
    params = [h.rsplit("$", 2)[0] for h in hasher.verifications]
    assert params[0] == params[1]


def test_emails_are_normalised() -> None:
    assert normalise_email("  Bob.Smith@Example.COM ") == "Bob.Smith@example.com"
    assert email_key("Bob.Smith@example.com") == email_key("bob.smith@EXAMPLE.com")


@pytest.mark.parametrize("bad", ["", "no-at-sign", "a@b", "a@@example.com", "a b@example.com", "x" * 250 + "@ex.com"])
def test_malformed_emails_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        normalise_email(bad)
