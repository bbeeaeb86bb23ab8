"""The User aggregate: its command methods check the rules and return events; apply() folds them into state."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from casefold_events.contracts import (
    EmailChanged,
    EmailChangeRequested,
    EmailConfirmed,
    Event,
    PasswordChanged,
    ProfileUpdated,
    RoleGranted,
    UnverifiedAccountExpired,
    UserDisabled,
    UserEnabled,
    UserRegistered,
)
from casefold_events.contracts.identity import Role
from casefold_events.store import Aggregate
from identity.domain.errors import RESET_LINK_INVALID, Conflict, InvalidResetToken

STREAM_TYPE = "user"


class User(Aggregate):
    """A person's account. The password hash is not part of it: it never enters the event stream."""

    stream_type: ClassVar[str] = STREAM_TYPE

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.email = ""
        self.display_name = ""
        self.role: Role = "customer"
        self.email_verified = False
        self.pending_email: str | None = None
        self.expired = False
        self.disabled = False

    @property
    def user_id(self) -> UUID:
        return UUID(self.id)

    @property
    def exists(self) -> bool:
        """Registered and not expired (an expired id never comes back; its address may sign up anew)."""
        return self.version > 0 and not self.expired

    @staticmethod
    def register(user_id: UUID, email: str, display_name: str, terms_version: str, role: Role = "customer") -> Event:
        return UserRegistered(
            user_id=user_id, email=email, display_name=display_name, role=role, terms_version=terms_version
        )

    def confirm_email(self, email: str) -> list[Event]:
        """Confirming the address the token was issued for; a stale token (address changed since) is refused."""
        if email != self.email:
            raise Conflict("This link is for an address the account no longer uses.")
        if self.email_verified:
            return []
        return [EmailConfirmed(user_id=self.user_id, email=email)]

    def request_email_change(self, new_email: str) -> list[Event]:
        if new_email.casefold() == self.email.casefold():
            raise Conflict("This is already your email address.")
        return [EmailChangeRequested(user_id=self.user_id, new_email=new_email)]

    def confirm_email_change(self, new_email: str) -> list[Event]:
        if self.pending_email != new_email:
            raise Conflict("This link is for an email change that was replaced or already done.")
        return [EmailChanged(user_id=self.user_id, old_email=self.email, email=new_email)]

    def rename(self, display_name: str) -> list[Event]:
        if display_name == self.display_name:
            return []
        return [ProfileUpdated(user_id=self.user_id, display_name=display_name)]

    def change_password(self) -> list[Event]:
        return [PasswordChanged(user_id=self.user_id)]

    def reset_password(self, link_email: str) -> list[Event]:
        """A reset by a link mailed to the address: using it proves control of the address, so it confirms it too."""
        if link_email != self.email:
            raise InvalidResetToken(RESET_LINK_INVALID)
        confirmed = [] if self.email_verified else [EmailConfirmed(user_id=self.user_id, email=self.email)]
        return [*confirmed, PasswordChanged(user_id=self.user_id)]

    def grant_role(self, role: Role, granted_by: UUID) -> list[Event]:
        if granted_by == self.user_id:
            raise Conflict("Administrators cannot change their own role.")
        if role == self.role:
            return []
        return [RoleGranted(user_id=self.user_id, role=role, granted_by=granted_by)]

    def disable(self, disabled_by: UUID) -> list[Event]:
        """An admin disables the account (never their own: nobody would be left to enable it)."""
        if disabled_by == self.user_id:
            raise Conflict("Administrators cannot disable their own account.")
        return [] if self.disabled else [UserDisabled(user_id=self.user_id, disabled_by=disabled_by)]

    def enable(self, enabled_by: UUID) -> list[Event]:
        return [UserEnabled(user_id=self.user_id, enabled_by=enabled_by)] if self.disabled else []

    def expire_unverified(self) -> list[Event]:
        """Remove an account that never confirmed its address; a confirmed one (or staff) is never expired."""
        if not self.exists or self.email_verified or self.role != "customer":
            return []
        return [UnverifiedAccountExpired(user_id=self.user_id)]

    def apply(self, event: Event) -> None:
        match event:
            case UserRegistered():
                self.email, self.display_name, self.role = event.email, event.display_name, event.role
            case EmailConfirmed():
                self.email_verified = True
            case EmailChangeRequested():
                self.pending_email = event.new_email
            case EmailChanged():
                self.email, self.pending_email, self.email_verified = event.email, None, True
            case ProfileUpdated():
                self.display_name = event.display_name
            case RoleGranted():
                self.role = event.role
            case PasswordChanged():
                pass
            case UnverifiedAccountExpired():
                self.expired = True
            case UserDisabled():
                self.disabled = True
            case UserEnabled():
                self.disabled = False
            case _:
                raise TypeError(f"User cannot apply {type(event).__name__}")

    def to_snapshot(self) -> dict[str, Any] | None:
        return None
