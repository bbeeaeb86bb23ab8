"""Errors of the identity domain, mapped to problem+json by the platform's handlers."""

from __future__ import annotations

from casefold_platform.problems import Conflict, DomainError, FieldError, InvalidInput

__all__ = ["Conflict", "FieldError", "InvalidConfirmationToken", "InvalidInput", "invalid"]


class InvalidConfirmationToken(DomainError):
    """The confirmation link is unknown, used or expired (indistinguishable on purpose)."""

    status = 400
    slug = "invalid-confirmation-token"
    title = "Invalid confirmation link"


def invalid(field: str, message: str) -> InvalidInput:
    """A 422 naming one request-body field, by the same dotted path as the platform's validation errors."""
    return InvalidInput(message, errors=[FieldError(f"body.{field}", message)])
