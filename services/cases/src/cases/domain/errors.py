"""Errors of the case domain; each is a problem type of the platform, so it maps to HTTP in one place."""

from __future__ import annotations

from casefold_platform.problems import Conflict, FieldError, Forbidden, InvalidInput, NotFound


class CaseNotFound(NotFound):
    """No such case, or the caller may not see it (indistinguishable on purpose)."""

    slug = "case-not-found"
    title = "Case not found"

    def __init__(self) -> None:
        super().__init__("No case with this id or number is visible to you.")


class CaseIsClosed(Conflict):
    """A closed case is final."""

    slug = "case-closed"
    title = "Case is closed"

    def __init__(self, number: int) -> None:
        super().__init__(f"Case {number:08d} is closed and cannot be changed; open a new case if the problem persists.")


class AttachmentAlreadyOnCase(Conflict):
    """The same attachment is linked to a case at most once."""

    slug = "attachment-already-on-case"
    title = "Attachment already on the case"

    def __init__(self) -> None:
        super().__init__("This attachment is already on the case.")


class NotAllowed(Forbidden):
    """The caller is known but may not do this (e.g. an unverified email opening a case)."""


def invalid(field: str, message: str) -> InvalidInput:
    """A 422 naming one field."""
    return InvalidInput(message, errors=[FieldError(field, message)])
