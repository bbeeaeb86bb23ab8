"""Events of the User aggregate, published on `identity.events.v1` keyed by user id. Never a secret in here."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field

from casefold_events.contracts.base import Event, event

Role = Literal["customer", "agent", "admin"]


@event
class UserRegistered(Event):
    """A person signed up and accepted the terms (the email is not confirmed yet)."""

    event_type = "UserRegistered"
    schema_version = 1

    user_id: UUID
    email: str = Field(max_length=320)
    display_name: str = Field(min_length=1, max_length=64)
    role: Role = "customer"
    terms_version: str = Field(max_length=32)


@event
class EmailConfirmed(Event):
    """The user proved they own the address."""

    event_type = "EmailConfirmed"
    schema_version = 1

    user_id: UUID
    email: str = Field(max_length=320)


@event
class EmailChangeRequested(Event):
    """The user asked to change their address; it takes effect once the new address is confirmed."""

    event_type = "EmailChangeRequested"
    schema_version = 1

    user_id: UUID
    new_email: str = Field(max_length=320)


@event
class EmailChanged(Event):
    """The new address was confirmed and replaces the old one."""

    event_type = "EmailChanged"
    schema_version = 1

    user_id: UUID
    old_email: str = Field(max_length=320)
    email: str = Field(max_length=320)


@event
class ProfileUpdated(Event):
    """The user changed their profile (display name)."""

    event_type = "ProfileUpdated"
    schema_version = 1

    user_id: UUID
    display_name: str = Field(min_length=1, max_length=64)


@event
class PasswordChanged(Event):
    """The password was changed (the hash never leaves the identity service)."""

    event_type = "PasswordChanged"
    schema_version = 1

    user_id: UUID


@event
class RoleGranted(Event):
    """An admin granted a role."""

    event_type = "RoleGranted"
    schema_version = 1

    user_id: UUID
    role: Role
    granted_by: UUID | None = None


@event
class UnverifiedAccountExpired(Event):
    """An account that never confirmed its address was removed after the unverified TTL (IDENTITY_UNVERIFIED_TTL_
    SECONDS): the user id is gone for good, and its email and display name may be signed up again (by a new id)."""

    event_type = "UnverifiedAccountExpired"
    schema_version = 1

    user_id: UUID


@event
class UserDisabled(Event):
    """An admin disabled the account: every session of it ended at once and logging in is refused until enabled."""

    event_type = "UserDisabled"
    schema_version = 1

    user_id: UUID
    disabled_by: UUID | None = None


@event
class UserEnabled(Event):
    """An admin enabled a disabled account again: its owner may log in (no session comes back)."""

    event_type = "UserEnabled"
    schema_version = 1

    user_id: UUID
    enabled_by: UUID | None = None
