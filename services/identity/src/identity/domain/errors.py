"""Errors of the identity domain, mapped to problem+json by the platform's handlers."""

from __future__ import annotations

from casefold_platform.problems import Conflict, DomainError, FieldError, Forbidden, InvalidInput

__all__ = [
    "RESET_LINK_INVALID",
    "AccountDisabled",
    "Conflict",
    "FieldError",
    "InvalidConfirmationToken",
    "InvalidInput",
    "InvalidResetToken",
    "invalid",
]


class InvalidConfirmationToken(DomainError):
    """The confirmation link is unknown, used or expired (indistinguishable on purpose)."""

    status = 400
    slug = "invalid-confirmation-token"
    title = "Invalid confirmation link"


class AccountDisabled(Forbidden):
    """An administrator disabled the account: no session may be opened until it is enabled again."""

    slug = "account-disabled"
    title = "Account disabled"


ACCOUNT_DISABLED = "This account is disabled; contact support to have it enabled again."
RESET_LINK_INVALID = "This password reset link is invalid or has expired; ask for a new one."


class InvalidResetToken(DomainError):
    """The password-reset link is unknown, used, superseded or expired (indistinguishable on purpose)."""

    status = 400
    slug = "invalid-reset-token"
    title = "Invalid password reset link"


def invalid(field: str, message: str) -> InvalidInput:
    """A 422 naming one request-body field, by the same dotted path as the platform's validation errors."""
    return InvalidInput(message, errors=[FieldError(f"body.{field}", message)])
