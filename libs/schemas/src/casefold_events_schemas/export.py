"""Export the contracts for support tooling: JSON Schema (draft 2020-12) files and AsyncAPI 3.0 documents.

    uv run python -m casefold_events_schemas            # (re)write libs/events/schemas
    uv run python -m casefold_events_schemas --check    # exit 1 when the files drift or break compatibility

A build-time tool (libs/schemas), not part of the runtime contracts package: services never import it.

Layout of libs/events/schemas (everything outside `internal/` may be handed to support tooling):

    json/Envelope.json                  the envelope every event travels in
    json/<EventType>.v<N>.json          one file per public event type and schema_version (older versions stay)
    asyncapi.json                       the public topics
    internal/json/<EventType>.v<N>.json private commands (they carry secrets)
    internal/asyncapi.json              the private topics

Output is deterministic (sorted keys, two-space indent, trailing newline) so that the files diff cleanly.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from casefold_events.contracts import (
    CASES_TOPIC,
    IDENTITY_MAIL_TOPIC,
    IDENTITY_TOPIC,
    PRIVATE_TOPICS,
    PUBLIC_TOPICS,
)
from casefold_events.contracts.base import Event, EventRegistry, registry
from casefold_events.envelope import CONTENT_TYPE, Envelope
from casefold_events_schemas.compat import Schema, SchemaKey, breaking_changes, compatibility_report

Visibility = Literal["public", "private"]

# The committed files live beside the contracts they describe (libs/events/schemas), not beside this tool.
DEFAULT_ROOT = Path(__file__).resolve().parents[3] / "events" / "schemas"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
TRACEPARENT_PATTERN = r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"
_SCHEMA_FILE = re.compile(r"^(?P<event_type>[A-Za-z][A-Za-z0-9]*)\.v(?P<version>[1-9][0-9]*)\.json$")
_MAX_DIFF_LINES = 40


@dataclass(frozen=True)
class Topic:
    """A Kafka topic as support tooling sees it: what it carries, what its key is, who may read it."""

    address: str
    visibility: Visibility
    key: str  # the payload field whose value is the Kafka key (the aggregate id)
    description: str
    events: tuple[type[Event], ...]


_DESCRIPTIONS = {
    CASES_TOPIC: ("case_id", "Every event of the Case aggregate, keyed by case id: one case's events stay in order."),
    IDENTITY_TOPIC: ("user_id", "Every event of the User aggregate, keyed by user id. Never carries a secret."),
    IDENTITY_MAIL_TOPIC: (
        "user_id",
        "PRIVATE: account emails with single-use links (secrets). Only identity writes it and only notifications "
        "reads it; never give it to support tooling.",
    ),
}


def topics() -> list[Topic]:
    """Every topic with its contracts, public first; fails when a registered event is on no topic or on two."""
    result: list[Topic] = []
    tables: tuple[tuple[Visibility, Mapping[str, tuple[type[Event], ...]]], ...] = (
        ("public", PUBLIC_TOPICS),
        ("private", PRIVATE_TOPICS),
    )
    for visibility, table in tables:
        for address, events in table.items():
            key, description = _DESCRIPTIONS[address]
            for model in events:
                if key not in model.model_fields:
                    raise ValueError(f"{model.event_type} on {address} has no {key} field for the Kafka key")
            result.append(Topic(address, visibility, key, description, tuple(events)))
    placed = [model.event_type for topic in result for model in topic.events]
    doubles = sorted({t for t in placed if placed.count(t) > 1})
    homeless = sorted(set(registry.types()) - set(placed))
    if doubles or homeless:
        raise ValueError(f"every event type belongs to exactly one topic: on two {doubles}, on none {homeless}")
    return result


def event_schema(model: type[Event], topic: Topic) -> dict[str, Any]:
    """The JSON Schema of one event payload, tagged with its event_type, version and topic."""
    return {
        **model.model_json_schema(),
        "$schema": DIALECT,
        "$id": f"urn:casefold:event:{model.event_type}:v{model.schema_version}",
        "x-casefold-event-type": model.event_type,
        "x-casefold-schema-version": model.schema_version,
        "x-casefold-topic": topic.address,
        "x-casefold-visibility": topic.visibility,
    }


def envelope_schema() -> dict[str, Any]:
    return {**Envelope.model_json_schema(), "$schema": DIALECT, "$id": "urn:casefold:envelope"}


def schema_path(model: type[Event], visibility: Visibility) -> str:
    folder = "json" if visibility == "public" else "internal/json"
    return f"{folder}/{model.event_type}.v{model.schema_version}.json"


def asyncapi(selected: Sequence[Topic], visibility: Visibility) -> dict[str, Any]:
    """An AsyncAPI 3.0 document for the given topics: Casefold sends, tooling (or notifications) receives."""
    components: dict[str, Any] = {}
    _hoist(envelope_schema(), "Envelope", components)
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic in selected:
        channel_id = topic.address.replace(".", "_")
        channels[channel_id] = {
            "address": topic.address,
            "title": topic.address,
            "description": topic.description,
            "messages": {m.event_type: {"$ref": f"#/components/messages/{m.event_type}"} for m in topic.events},
            "bindings": {"kafka": {"topic": topic.address, "bindingVersion": KAFKA_BINDING_VERSION}},
            "x-casefold-visibility": topic.visibility,
        }
        operations[f"send_{channel_id}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": f"Casefold publishes to {topic.address}",
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{m.event_type}"} for m in topic.events],
        }
        for model in topic.events:
            name = f"{model.event_type}.v{model.schema_version}"
            _hoist(event_schema(model, topic), name, components)
            messages[model.event_type] = _message(model, topic, name)
    title = "Casefold events" if visibility == "public" else "Casefold internal channels (private)"
    description = (
        "The public event topics of Casefold, for support tooling. Each message is an envelope (JSON) whose "
        "`payload` is the event; route on the `event_type` header or field, never on anything else."
        if visibility == "public"
        else "PRIVATE channels between Casefold services. They carry secrets: never expose them to support tooling."
    )
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {"title": title, "version": "1.0.0", "description": description},
        "defaultContentType": CONTENT_TYPE,
        "channels": channels,
        "operations": operations,
        "components": {"schemas": components, "messages": messages},
        "x-casefold-visibility": visibility,
    }


def _message(model: type[Event], topic: Topic, schema_name: str) -> dict[str, Any]:
    event_type, version = model.event_type, model.schema_version
    return {
        "name": event_type,
        "title": f"{event_type} v{version}",
        "summary": (model.__doc__ or event_type).strip().splitlines()[0],
        "contentType": CONTENT_TYPE,
        "headers": {
            "type": "object",
            "required": ["event_type", "event_id", "schema_version", "content-type"],
            "properties": {
                "event_type": {"type": "string", "const": event_type},
                "event_id": {"type": "string", "format": "uuid", "description": "UUIDv7, the envelope's event_id"},
                "schema_version": {"type": "string", "const": str(version), "description": "decimal"},
                "content-type": {"type": "string", "const": CONTENT_TYPE},
                "traceparent": {
                    "type": "string",
                    "pattern": TRACEPARENT_PATTERN,
                    "description": "W3C trace context, present when the event was produced inside a trace",
                },
            },
        },
        "payload": {
            "allOf": [
                {"$ref": "#/components/schemas/Envelope"},
                {
                    "type": "object",
                    "properties": {
                        "event_type": {"const": event_type},
                        "schema_version": {"const": version},
                        "payload": {"$ref": f"#/components/schemas/{schema_name}"},
                    },
                },
            ]
        },
        "bindings": {
            "kafka": {
                "key": {"type": "string", "format": "uuid", "description": f"the {topic.key} (the stream id)"},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
        "x-casefold-event-type": event_type,
        "x-casefold-schema-version": version,
        "x-casefold-visibility": topic.visibility,
    }


def _hoist(schema: Mapping[str, Any], name: str, components: dict[str, Any]) -> None:
    """Add a schema to components.schemas, its $defs beside it, refs rewritten to the component paths."""
    defs = {key: _rewrite_refs(value) for key, value in schema.get("$defs", {}).items()}
    body = _rewrite_refs({k: v for k, v in schema.items() if k not in ("$defs", "$schema", "$id")})
    for key, value in [*defs.items(), (name, body)]:
        if key in components and components[key] != value:
            raise ValueError(f"two different schemas are both called {key!r}")
        components[key] = value


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: (v.replace("#/$defs/", "#/components/schemas/") if k == "$ref" else _rewrite_refs(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node


def dumps(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render() -> dict[str, str]:
    """Every generated file: path relative to the schemas root -> its exact text."""
    all_topics = topics()
    files = {"json/Envelope.json": dumps(envelope_schema())}
    for topic in all_topics:
        for model in topic.events:
            files[schema_path(model, topic.visibility)] = dumps(event_schema(model, topic))
    files["asyncapi.json"] = dumps(asyncapi([t for t in all_topics if t.visibility == "public"], "public"))
    files["internal/asyncapi.json"] = dumps(asyncapi([t for t in all_topics if t.visibility == "private"], "private"))
    return dict(sorted(files.items()))


def committed_schemas(root: Path) -> dict[SchemaKey, Schema]:
    """Every committed event schema (older versions included) by (event_type, schema_version)."""
    found: dict[SchemaKey, Schema] = {}
    for path in _event_schema_files(root):
        match = _SCHEMA_FILE.match(path.name)
        assert match is not None  # _event_schema_files only yields matching names
        found[(match["event_type"], int(match["version"]))] = json.loads(path.read_text(encoding="utf-8"))
    return found


def current_schemas() -> dict[str, tuple[int, Schema]]:
    return {m.event_type: (m.schema_version, event_schema(m, t)) for t in topics() for m in t.events}


def has_upcaster(events: EventRegistry = registry) -> Callable[[str, int], bool]:
    """A predicate (event_type, from_version) -> bool over the upcasters of a registry."""
    return events.has_upcaster


def check(root: Path = DEFAULT_ROOT) -> list[str]:
    """Drift between the committed files and the models, and compatibility problems; empty when all is well."""
    problems: list[str] = []
    expected = render()
    for relative, text in expected.items():
        path = root / relative
        if not path.exists():
            problems.append(f"{relative}: missing")
            continue
        committed = path.read_text(encoding="utf-8")
        if committed != text:
            lines = difflib.unified_diff(committed.splitlines(), text.splitlines(), "committed", "models", lineterm="")
            diff = list(lines)
            more = [f"... ({len(diff) - _MAX_DIFF_LINES} more diff lines)"] if len(diff) > _MAX_DIFF_LINES else []
            problems.append("\n".join([f"{relative}: differs from the models", *diff[:_MAX_DIFF_LINES], *more]))
    current = current_schemas()
    for path in sorted(root.rglob("*.json")):
        relative = path.relative_to(root).as_posix()
        match = _SCHEMA_FILE.match(path.name)
        history = match is not None and match["event_type"] in current and relative not in expected
        if relative not in expected and not history:
            problems.append(f"{relative}: not produced by the export (an older version of a removed event?)")
    problems += compatibility_report(committed_schemas(root), current, has_upcaster())
    return problems


def write(root: Path = DEFAULT_ROOT) -> list[str]:
    """Write every generated file that changed; refuses (writes nothing) when a change breaks a committed version."""
    committed = committed_schemas(root)
    refusals = [
        f"{event_type} v{version}: {change}"
        for event_type, (version, schema) in current_schemas().items()
        if (event_type, version) in committed
        for change in breaking_changes(committed[(event_type, version)], schema)
    ]
    if refusals:
        raise BreakingChangeError(refusals)
    written = []
    for relative, text in render().items():
        path = root / relative
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(relative)
    return written


class BreakingChangeError(Exception):
    """The models changed a committed schema_version incompatibly."""

    def __init__(self, changes: list[str]) -> None:
        super().__init__("\n".join(changes))
        self.changes = changes


def _event_schema_files(root: Path) -> Iterator[Path]:
    for folder in (root / "json", root / "internal" / "json"):
        if folder.is_dir():
            yield from sorted(p for p in folder.glob("*.json") if _SCHEMA_FILE.match(p.name))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m casefold_events_schemas", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 on drift or a breaking change")
    parser.add_argument("--dir", type=Path, default=DEFAULT_ROOT, help="the schemas folder (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.check:
        problems = check(args.dir)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("\nregenerate with: uv run python -m casefold_events_schemas", file=sys.stderr)
            return 1
        print(f"{args.dir}: up to date and compatible")
        return 0
    try:
        written = write(args.dir)
    except BreakingChangeError as exc:
        for change in exc.changes:
            print(change, file=sys.stderr)
        print("\nnot written: bump schema_version and register an upcaster from the previous version", file=sys.stderr)
        return 1
    for relative in written:
        print(f"wrote {args.dir / relative}")
    if not written:
        print(f"{args.dir}: already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
