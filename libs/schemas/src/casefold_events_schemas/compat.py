"""Backward-compatibility check between two JSON Schemas of the same event type and schema_version.

Within one schema_version the current model must read every payload the committed schema accepted: stored events
are replayed forever and consumers may lag. So a schema may only widen: optional fields may be added, enum values
added, constraints loosened. Anything else needs a new schema_version and an upcaster from the previous one.

The comparison works on the JSON Schema that pydantic generates (draft 2020-12: properties, required, $ref into
$defs, anyOf for unions and Optional, enum/const, formats and the usual length/range/pattern keywords).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

Schema = Mapping[str, Any]
SchemaKey = tuple[str, int]  # (event_type, schema_version)

_LOWER_BOUNDS = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties")
_UPPER_BOUNDS = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties")
_ANNOTATIONS = ("title", "description", "examples")


class ChangeKind(StrEnum):
    FIELD_REMOVED = "field removed"
    FIELD_RENAMED = "field renamed"
    TYPE_CHANGED = "type changed"
    REQUIRED_FIELD_ADDED = "new required field"
    BECAME_REQUIRED = "field became required"
    ENUM_VALUE_REMOVED = "enum value removed"
    CONSTRAINT_TIGHTENED = "constraint tightened"
    DEFAULT_CHANGED = "default changed"


@dataclass(frozen=True)
class BreakingChange:
    kind: ChangeKind
    path: str
    detail: str

    def __str__(self) -> str:
        return f"{self.path}: {self.kind}: {self.detail}"


def breaking_changes(old: Schema, new: Schema) -> list[BreakingChange]:
    """What makes `new` refuse (or read differently) a payload that `old` accepted; empty when compatible."""
    differ = _Differ(old, new)
    differ.compare(old, new, "$")
    return differ.changes


def compatibility_report(
    committed: Mapping[SchemaKey, Schema],
    current: Mapping[str, tuple[int, Schema]],
    has_upcaster: Callable[[str, int], bool],
) -> list[str]:
    """Problems between the committed schema files and the current models; empty when every rule holds.

    committed: every committed event schema by (event_type, version), older versions included;
    current: event_type -> (schema_version, schema) of the models in the code.
    """
    problems: list[str] = []
    for (event_type, version), schema in sorted(committed.items()):
        if event_type not in current:
            problems.append(
                f"{event_type} v{version}: no model has this event_type any more "
                "(stored events and consumers still need it; keep the contract)"
            )
            continue
        current_version, current_schema = current[event_type]
        if version > current_version:
            problems.append(f"{event_type}: v{version} is committed but the model is at v{current_version}")
        elif version == current_version:
            for change in breaking_changes(schema, current_schema):
                problems.append(
                    f"{event_type} v{version}: {change} "
                    f"(a breaking change needs schema_version {version + 1} and an upcaster from v{version})"
                )
            old_topic, new_topic = schema.get("x-casefold-topic"), current_schema.get("x-casefold-topic")
            if old_topic != new_topic:
                problems.append(f"{event_type} v{version}: moved from topic {old_topic} to {new_topic}")
    for event_type, (current_version, _) in sorted(current.items()):
        oldest = min((v for (t, v) in committed if t == event_type), default=current_version)
        for version in range(oldest, current_version):
            if not has_upcaster(event_type, version):
                problems.append(f"{event_type}: no upcaster from v{version} to v{version + 1}")
    return problems


class _Differ:
    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old_root = old_root
        self.new_root = new_root
        self.changes: list[BreakingChange] = []
        self._seen: set[tuple[str, str]] = set()

    def add(self, kind: ChangeKind, path: str, detail: str) -> None:
        self.changes.append(BreakingChange(kind, path, detail))

    def compare(self, old: Schema, new: Schema, path: str) -> None:
        old, new = _resolve(old, self.old_root), _resolve(new, self.new_root)
        if "default" in old and "default" in new and old["default"] != new["default"]:
            self.add(ChangeKind.DEFAULT_CHANGED, path, f"{old['default']!r} -> {new['default']!r}")
        new_branches = _branches(new, self.new_root)
        for old_branch in _branches(old, self.old_root):
            self._compare_branch(old_branch, new_branches, new, path)

    def _compare_branch(self, old: Schema, candidates: list[Schema], new_whole: Schema, path: str) -> None:
        matching = [c for c in candidates if _accepts_type(c, old)]
        if not matching:
            now = _describe_all(candidates)
            self.add(ChangeKind.TYPE_CHANGED, path, f"{_describe(old)} is no longer accepted (now {now})")
            return
        best: list[BreakingChange] | None = None
        for candidate in matching:
            trial = _Differ(self.old_root, self.new_root)
            trial._seen = set(self._seen)
            trial._compare_same_type(old, candidate, path)
            if best is None or len(trial.changes) < len(best):
                best = trial.changes
            if not best:
                return
        self.changes.extend(best or [])

    def _compare_same_type(self, old: Schema, new: Schema, path: str) -> None:
        old_values, new_values = _values(old), _values(new)
        if new_values is not None:
            if old_values is None:
                self.add(ChangeKind.CONSTRAINT_TIGHTENED, path, f"restricted to the values {new_values!r}")
            else:
                for value in old_values:
                    if value not in new_values:
                        self.add(ChangeKind.ENUM_VALUE_REMOVED, path, repr(value))
        if new.get("format") and new.get("format") != old.get("format"):
            self.add(ChangeKind.TYPE_CHANGED, path, f"format {old.get('format', 'none')} -> {new['format']}")
        self._bounds(old, new, path)
        kind = _type(new)
        if kind == "object":
            self._compare_object(old, new, path)
        elif kind == "array" and "items" in new:
            self.compare(old.get("items", {}), new["items"], f"{path}[]")

    def _bounds(self, old: Schema, new: Schema, path: str) -> None:
        for key in _LOWER_BOUNDS:
            if key in new and (key not in old or new[key] > old[key]):
                self.add(ChangeKind.CONSTRAINT_TIGHTENED, path, f"{key} {old.get(key, 'none')} -> {new[key]}")
        for key in _UPPER_BOUNDS:
            if key in new and (key not in old or new[key] < old[key]):
                self.add(ChangeKind.CONSTRAINT_TIGHTENED, path, f"{key} {old.get(key, 'none')} -> {new[key]}")
        if "pattern" in new and new["pattern"] != old.get("pattern"):
            self.add(ChangeKind.CONSTRAINT_TIGHTENED, path, f"pattern {old.get('pattern')!r} -> {new['pattern']!r}")
        if "multipleOf" in new and ("multipleOf" not in old or old["multipleOf"] % new["multipleOf"] != 0):
            detail = f"multipleOf {old.get('multipleOf')} -> {new['multipleOf']}"
            self.add(ChangeKind.CONSTRAINT_TIGHTENED, path, detail)
        if new.get("uniqueItems") and not old.get("uniqueItems"):
            self.add(ChangeKind.CONSTRAINT_TIGHTENED, path, "items must now be unique")

    def _compare_object(self, old: Schema, new: Schema, path: str) -> None:
        # A recursive model ($ref back to itself) would loop forever: each pair of object schemas once per walk.
        pair = (json.dumps(old, sort_keys=True), json.dumps(new, sort_keys=True))
        if pair in self._seen:
            return
        self._seen.add(pair)
        old_props: Mapping[str, Schema] = old.get("properties", {})
        new_props: Mapping[str, Schema] = new.get("properties", {})
        old_required, new_required = set(old.get("required", ())), set(new.get("required", ()))
        added = [name for name in new_props if name not in old_props]
        for name in old_props:
            if name in new_props:
                self.compare(old_props[name], new_props[name], _join(path, name))
                if name in new_required and name not in old_required:
                    self.add(ChangeKind.BECAME_REQUIRED, _join(path, name), "payloads without it are refused")
                continue
            twin = next((a for a in added if _same_shape(old_props[name], new_props[a])), None)
            if twin is not None:
                added.remove(twin)
                self.add(ChangeKind.FIELD_RENAMED, _join(path, name), f"renamed to {twin!r}")
            else:
                self.add(ChangeKind.FIELD_REMOVED, _join(path, name), "consumers and stored payloads still have it")
        for name in added:
            if name in new_required:
                self.add(ChangeKind.REQUIRED_FIELD_ADDED, _join(path, name), "required and without a default")
        old_extra, new_extra = old.get("additionalProperties", True), new.get("additionalProperties", True)
        if old_extra is not False and new_extra is False:
            self.add(ChangeKind.CONSTRAINT_TIGHTENED, path, "additional properties are no longer allowed")
        elif old_extra is not False and isinstance(new_extra, Mapping):
            self.compare(old_extra if isinstance(old_extra, Mapping) else {}, new_extra, _join(path, "*"))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}"


def _resolve(schema: Schema, root: Schema) -> Schema:
    """Follow local $refs ("#/$defs/X"); keywords next to a $ref (default, description) are kept."""
    seen: set[str] = set()
    while "$ref" in schema:
        ref = str(schema["$ref"])
        if not ref.startswith("#/") or ref in seen:
            raise ValueError(f"cannot resolve $ref {ref!r}")
        seen.add(ref)
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        siblings = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**target, **siblings}
    return schema


def _branches(schema: Schema, root: Schema) -> list[Schema]:
    """The alternatives a schema accepts: anyOf/oneOf members and list-valued `type` split into one each."""
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return [b for member in schema[key] for b in _branches(_resolve(member, root), root)]
    kinds = schema.get("type")
    if isinstance(kinds, list):
        return [{**schema, "type": kind} for kind in kinds]
    return [schema]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _type(schema: Schema) -> str | None:
    """The JSON type a branch accepts, or None for "anything"."""
    if "type" in schema:
        return str(schema["type"])
    values = _values(schema)
    if values:
        kinds = {_json_type(v) for v in values}
        return kinds.pop() if len(kinds) == 1 else None
    return "object" if "properties" in schema else None


def _values(schema: Schema) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    if "enum" in schema:
        return list(schema["enum"])
    return None


def _accepts_type(new: Schema, old: Schema) -> bool:
    new_type, old_type = _type(new), _type(old)
    if new_type is None:
        return True
    return new_type == old_type or (new_type == "number" and old_type == "integer")


def _same_shape(a: Schema, b: Schema) -> bool:
    def strip(schema: Schema) -> dict[str, Any]:
        return {k: v for k, v in schema.items() if k not in _ANNOTATIONS}

    return json.dumps(strip(a), sort_keys=True) == json.dumps(strip(b), sort_keys=True)


def _describe(schema: Schema) -> str:
    kind = _type(schema) or "any value"
    if "format" in schema:
        kind = f"{kind} ({schema['format']})"
    if "title" in schema and kind == "object":
        kind = f"object {schema['title']}"
    return kind


def _describe_all(schemas: Iterable[Schema]) -> str:
    return " | ".join(_describe(s) for s in schemas) or "nothing"
