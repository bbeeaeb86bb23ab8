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


class CaseIsFull(Conflict):
    """A case holds a bounded number of comments (its page and its replay stay small)."""

    slug = "case-full"
    title = "Case is full"

    def __init__(self, number: int, limit: int) -> None:
        super().__init__(
            f"Case {number:08d} has reached its limit of {limit} comments; open a new case to go on (mention this "
            "case's number in it)."
        )


class AttachmentAlreadyOnCase(Conflict):
    """The same attachment is linked to a case at most once."""

    slug = "attachment-already-on-case"
    title = "Attachment already on the case"

    def __init__(self) -> None:
        super().__init__("This attachment is already on the case.")


class NotAllowed(Forbidden):
    """The caller is known but may not do this (e.g. an unverified email opening a case)."""


class InvalidField(InvalidInput):
    """A 422 naming one field of a command in the domain's words ("product", "attachments.0"); the API edge says
    where in the request it was (api/problems.py: "body.product")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, errors=[FieldError(field, message)])
        self.field = field
        self.message = message


class InvalidCursor(InvalidField):
    """A page cursor this service did not issue (a read's input, not a command's)."""

    def __init__(self) -> None:
        super().__init__("cursor", "The cursor is not valid; use next_cursor from a previous page.")


def invalid(field: str, message: str) -> InvalidField:
    """A 422 naming one field of a command."""
    return InvalidField(field, message)
