"""Email addresses: syntax checked, normalised, and the key that makes them unique."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from identity.domain.errors import invalid

MAX_EMAIL_LENGTH = 254


def normalise_email(raw: str, field: str = "email") -> str:
    """The address as stored (domain lower-cased, IDNA-normalised); 422 when it is not a deliverable-looking one."""
    candidate = raw.strip()
    if not candidate or len(candidate) > MAX_EMAIL_LENGTH:
        raise invalid(field, f"An email address has at most {MAX_EMAIL_LENGTH} characters.")
    try:
        result = validate_email(candidate, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        raise invalid(field, "This is not a valid email address.") from None
    return result.normalized


def email_key(email: str) -> str:
    """Uniqueness key: the whole address case-insensitively (no provider treats Bob@ and bob@ apart in practice)."""
    return email.casefold()
