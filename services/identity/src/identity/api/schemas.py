"""Request and response bodies of the identity API (length limits on every string; unknown fields refused)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from identity.adapters.admin import ListedUser
from identity.adapters.users import UserRow
from identity.app.admin import AuditEntry


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refusing it here keeps it a 422 instead of a driver error.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Email = Annotated[Text, Field(min_length=1, max_length=320)]
Password = Annotated[Text, Field(min_length=1, max_length=1024)]
Token = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
DisplayName = Annotated[Text, Field(min_length=1, max_length=128)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserCreate(_In):
    email: Email
    password: Password
    display_name: DisplayName
    accept_terms: bool = False


class EmailConfirmation(_In):
    token: Token


class ResendConfirmation(_In):
    email: Email


class Credentials(_In):
    email: Email
    password: Password


class RefreshRequest(_In):
    refresh_token: Token | None = Field(default=None, description="Without it, the casefold_refresh cookie is used.")


class PasswordResetRequest(_In):
    email: Email


class PasswordResetConfirm(_In):
    # Not the Token pattern: a garbled token is an invalid link (400), like an unknown one, not a field error.
    token: Annotated[Text, Field(min_length=1, max_length=256)]
    new_password: Password


class ProfileUpdate(_In):
    display_name: DisplayName


class PasswordChange(_In):
    current_password: Password
    new_password: Password


class EmailChange(_In):
    new_email: Email
    current_password: Password


class RoleGrant(_In):
    role: Literal["customer", "agent", "admin"]


class UserRead(BaseModel):
    id: UUID
    email: str
    display_name: str
    email_verified: bool
    role: str
    pending_email: str | None = None

    @classmethod
    def of(cls, row: UserRow) -> UserRead:
        return cls(
            id=row.id, email=row.email, display_name=row.display_name, email_verified=row.email_verified,
            role=row.role, pending_email=row.pending_email,
        )  # fmt: skip


class TokenPairRead(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int


class DisplayNameAvailability(BaseModel):
    display_name: str = Field(description="The name as asked (so that a client can match answers to its input).")
    available: bool
    reason: str | None = Field(description="Why it is not available: taken, or the rule it breaks.")


class RevokedToken(BaseModel):
    jti: str
    expires_at: str


class RevokedTokensRead(BaseModel):
    revoked: list[RevokedToken]
    generated_at: str


Role = Literal["customer", "agent", "admin"]


class UserListItem(BaseModel):
    id: UUID
    email: str
    display_name: str
    role: Role
    email_verified: bool
    disabled: bool
    created_at: datetime

    @classmethod
    def of(cls, user: ListedUser) -> UserListItem:
        return cls.model_validate(user, from_attributes=True)


class UserPageRead(BaseModel):
    items: list[UserListItem]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null on the last one.")


class AuditEntryRead(BaseModel):
    at: datetime
    action: Literal["role_changed", "disabled", "enabled", "email_changed", "password_changed", "password_reset"]
    actor_id: UUID | None = Field(description="Who did it; null for the system (e.g. the create-admin command).")
    actor_name: str | None = Field(description="The actor's display name now; null for the system.")
    detail: str

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryRead:
        return cls.model_validate(entry, from_attributes=True)
