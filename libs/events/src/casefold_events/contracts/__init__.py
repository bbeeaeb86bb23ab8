"""Versioned event contracts: one definition of every event, shared by producers, consumers and support tooling."""

from casefold_events.contracts.base import Event, registry
from casefold_events.contracts.cases import (
    AttachmentAdded,
    AttachmentRef,
    CaseAssigned,
    CaseClosed,
    CaseOpened,
    CommentAdded,
    SeverityChanged,
    SlaBreached,
    SlaWarning,
    WaitingStateChanged,
)
from casefold_events.contracts.identity import (
    EmailChanged,
    EmailChangeRequested,
    EmailConfirmed,
    PasswordChanged,
    ProfileUpdated,
    RoleGranted,
    UnverifiedAccountExpired,
    UserRegistered,
)
from casefold_events.contracts.mail import SendAccountEmail

CASES_TOPIC = "cases.events.v1"
IDENTITY_TOPIC = "identity.events.v1"
# Private: carries confirmation links (secrets). Only identity writes it and only notifications reads it.
IDENTITY_MAIL_TOPIC = "identity.mail.v1"

PUBLIC_TOPICS = {CASES_TOPIC: (
    CaseOpened, CommentAdded, AttachmentAdded, CaseClosed, CaseAssigned, WaitingStateChanged, SeverityChanged,
    SlaWarning, SlaBreached,
), IDENTITY_TOPIC: (
    UserRegistered, EmailConfirmed, EmailChangeRequested, EmailChanged, ProfileUpdated, PasswordChanged, RoleGranted,
    UnverifiedAccountExpired,
)}  # fmt: skip
PRIVATE_TOPICS = {IDENTITY_MAIL_TOPIC: (SendAccountEmail,)}

__all__ = [
    "CASES_TOPIC",
    "IDENTITY_MAIL_TOPIC",
    "IDENTITY_TOPIC",
    "PRIVATE_TOPICS",
    "PUBLIC_TOPICS",
    "AttachmentAdded",
    "AttachmentRef",
    "CaseAssigned",
    "CaseClosed",
    "CaseOpened",
    "CommentAdded",
    "EmailChangeRequested",
    "EmailChanged",
    "EmailConfirmed",
    "Event",
    "PasswordChanged",
    "ProfileUpdated",
    "RoleGranted",
    "SendAccountEmail",
    "SeverityChanged",
    "SlaBreached",
    "SlaWarning",
    "UnverifiedAccountExpired",
    "UserRegistered",
    "WaitingStateChanged",
    "registry",
]
