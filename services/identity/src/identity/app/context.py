"""What the handlers need, built once in the app factory (or a command) and passed in."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from casefold_events.store import EventStore, Repository
from identity.app.hashing import HashGate
from identity.app.tokens import AccessTokens
from identity.config import Settings
from identity.domain.model import STREAM_TYPE, User
from identity.domain.passwords import Passwords


@dataclass
class Identity:
    """The identity service's dependencies: database pool, event store, password hasher (behind its gate), tokens."""

    settings: Settings
    pool: asyncpg.Pool
    users: Repository[User]
    passwords: Passwords
    access_tokens: AccessTokens
    hashing: HashGate


def user_repository(settings: Settings) -> Repository[User]:
    return Repository(EventStore(topics={STREAM_TYPE: settings.events_topic}), User)
