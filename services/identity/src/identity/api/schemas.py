"""Request and response bodies of the identity API (length limits on every string; unknown fields refused)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from identity.adapters.users import UserRow

Email = Field(min_length=1, max_length=320)
Password = Field(min_length=1, max_length=1024)
Token = Field(min_length=1, max_length=128)
DisplayName = Field(min_length=1, max_length=128)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserCreate(_In):
    email: str = Email
    password: str = Password
    display_name: str = DisplayName
    accept_terms: bool = False


class EmailConfirmation(_In):
    token: str = Token


class ResendConfirmation(_In):
    email: str = Email


class Credentials(_In):
    email: str = Email
    password: str = Password


class RefreshRequest(_In):
    refresh_token: str = Token


class ProfileUpdate(_In):
    display_name: str = DisplayName


class PasswordChange(_In):
    current_password: str = Password
    new_password: str = Password


class EmailChange(_In):
    new_email: str = Email
    current_password: str = Password


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


class RevokedToken(BaseModel):
    jti: str
    expires_at: str


class RevokedTokensRead(BaseModel):
    revoked: list[RevokedToken]
    generated_at: str
