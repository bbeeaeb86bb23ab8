"""The base of every event contract, and the registry that maps a stable event_type string to its model.

Routing is by the `event_type` string, never by class name. Each model carries its current `schema_version`;
older payloads are brought forward by upcasters registered per (event_type, from_version).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar, cast

from pydantic import BaseModel, ConfigDict

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
JsonLoader = Callable[[str | bytes], "Event"]


class Event(BaseModel):
    """A fact that happened (past tense). Subclasses set event_type and schema_version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1


class UnknownEventTypeError(LookupError):
    """No contract is registered for this event_type."""


class EventRegistry:
    """event_type -> model, plus upcasters from older schema versions."""

    def __init__(self) -> None:
        self._types: dict[str, type[Event]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def register(self, cls: type[Event]) -> type[Event]:
        existing = self._types.get(cls.event_type)
        if existing is not None and existing is not cls:
            raise ValueError(f"event_type {cls.event_type!r} is already registered by {existing.__qualname__}")
        self._types[cls.event_type] = cls
        return cls

    def upcaster(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Register a function turning a payload of from_version into one of from_version + 1."""

        def decorate(fn: Upcaster) -> Upcaster:
            self._upcasters[(event_type, from_version)] = fn
            return fn

        return decorate

    def model(self, event_type: str) -> type[Event]:
        try:
            return self._types[event_type]
        except KeyError:
            raise UnknownEventTypeError(event_type) from None

    def types(self) -> dict[str, type[Event]]:
        return dict(self._types)

    def has_upcaster(self, event_type: str, from_version: int) -> bool:
        """Whether a payload of from_version can be brought to from_version + 1 (the schema export asks)."""
        return (event_type, from_version) in self._upcasters

    def upcast(self, event_type: str, schema_version: int, payload: dict[str, Any]) -> dict[str, Any]:
        """Bring a stored or received payload up to the current schema version of its model."""
        current = self.model(event_type).schema_version
        if schema_version > current:
            raise ValueError(f"{event_type} v{schema_version} is newer than this code knows (v{current})")
        version = schema_version
        while version < current:
            step = self._upcasters.get((event_type, version))
            if step is None:
                raise ValueError(f"no upcaster for {event_type} from v{version}")
            payload = step(payload)
            version += 1
        return payload

    def load(self, event_type: str, schema_version: int, payload: dict[str, Any]) -> Event:
        """Validate a payload (of any known version) into the current model."""
        return self.model(event_type).model_validate(self.upcast(event_type, schema_version, payload))

    def load_json(self, event_type: str, schema_version: int, payload: str | bytes) -> Event:
        """As load(), from JSON text: parsed and validated in one pass."""
        return self.json_loader(event_type, schema_version)(payload)

    def json_loader(self, event_type: str, schema_version: int) -> JsonLoader:
        """load_json() for one (event_type, schema_version), the lookups done once: for loops over many payloads.

        A current-version payload goes straight to the model's pydantic-core validator (what model_validate_json
        calls, without its per-call wrapper: a third of the cost of a small event); an older one is upcast first.
        """
        model = self.model(event_type)
        if schema_version == model.schema_version:
            return cast(JsonLoader, model.__pydantic_validator__.validate_json)
        return lambda payload: self.load(event_type, schema_version, json.loads(payload))


registry = EventRegistry()


def event(cls: type[Event]) -> type[Event]:
    """Class decorator: register a contract in the global registry."""
    return registry.register(cls)
