"""The committed schema files are exactly what the models export, and the export guards compatibility."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from casefold_events.contracts import PRIVATE_TOPICS, PUBLIC_TOPICS, registry
from casefold_events.contracts.base import Event, EventRegistry
from casefold_events_schemas import export

COMMITTED = export.DEFAULT_ROOT


def test_committed_schemas_match_the_models_and_stay_compatible() -> None:
    problems = export.check(COMMITTED)
    assert problems == [], "\n".join([*problems, "regenerate: uv run python -m casefold_events_schemas"])


def test_every_committed_file_is_canonical_json_with_a_trailing_newline() -> None:
    for path in sorted(COMMITTED.rglob("*.json")):
        text = path.read_text(encoding="utf-8")
        assert text == export.dumps(json.loads(text)), path


def test_export_is_deterministic() -> None:
    assert export.render() == export.render()


def test_there_is_one_schema_file_per_event_type_and_version() -> None:
    files = export.render()
    for event_type, model in registry.types().items():
        public = any(model in events for events in PUBLIC_TOPICS.values())
        folder = "json" if public else "internal/json"
        assert f"{folder}/{event_type}.v{model.schema_version}.json" in files
    assert "json/Envelope.json" in files


def test_every_registered_event_is_on_exactly_one_topic() -> None:
    placed = [model.event_type for topic in export.topics() for model in topic.events]
    assert sorted(placed) == sorted(registry.types())


def test_json_schemas_declare_draft_2020_12() -> None:
    for relative, text in export.render().items():
        if relative.endswith("asyncapi.json"):
            continue
        assert json.loads(text)["$schema"] == "https://json-schema.org/draft/2020-12/schema", relative


def test_json_schemas_are_valid_draft_2020_12() -> None:
    import jsonschema

    for relative, text in export.render().items():
        if not relative.endswith("asyncapi.json"):
            jsonschema.Draft202012Validator.check_schema(json.loads(text))


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _follow(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def test_public_asyncapi_has_the_public_topics_and_resolvable_refs() -> None:
    document = json.loads(export.render()["asyncapi.json"])
    assert document["asyncapi"] == "3.0.0"
    channels = {c["address"]: c for c in document["channels"].values()}
    assert set(channels) == set(PUBLIC_TOPICS)
    for address, events in PUBLIC_TOPICS.items():
        assert set(channels[address]["messages"]) == {e.event_type for e in events}
        assert channels[address]["x-casefold-visibility"] == "public"
    for ref in _refs(document):
        _follow(document, ref)


def test_public_asyncapi_mentions_no_private_topic_or_command() -> None:
    text = export.render()["asyncapi.json"]
    for address, events in PRIVATE_TOPICS.items():
        assert address not in text
        for model in events:
            assert model.event_type not in text


def test_private_topics_are_documented_apart_and_marked_private() -> None:
    document = json.loads(export.render()["internal/asyncapi.json"])
    assert document["x-casefold-visibility"] == "private"
    channels = {c["address"]: c for c in document["channels"].values()}
    assert set(channels) == set(PRIVATE_TOPICS)
    assert {c["x-casefold-visibility"] for c in channels.values()} == {"private"}
    for ref in _refs(document):
        _follow(document, ref)


def test_messages_carry_envelope_headers_key_and_the_event_as_payload() -> None:
    document = json.loads(export.render()["asyncapi.json"])
    message = document["components"]["messages"]["CaseOpened"]
    headers = message["headers"]["properties"]
    assert {"event_type", "event_id", "schema_version", "traceparent"} <= set(headers)
    assert headers["event_type"]["const"] == "CaseOpened"
    assert message["bindings"]["kafka"]["key"]["format"] == "uuid"
    envelope_ref, narrowing = message["payload"]["allOf"]
    assert envelope_ref == {"$ref": "#/components/schemas/Envelope"}
    assert narrowing["properties"]["payload"] == {"$ref": "#/components/schemas/CaseOpened.v1"}


def test_check_reports_drift_with_a_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert export.main(["--dir", str(tmp_path)]) == 0
    assert export.main(["--check", "--dir", str(tmp_path)]) == 0
    target = tmp_path / "json" / "CaseClosed.v1.json"
    target.write_text(target.read_text().replace("closed_by_role", "closer_role"))
    assert export.main(["--check", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "json/CaseClosed.v1.json: differs from the models" in err
    assert '+      "closed_by_role"' in err or '+    "closed_by_role"' in err


def test_check_reports_missing_and_unknown_files(tmp_path: Path) -> None:
    export.write(tmp_path)
    (tmp_path / "json" / "CaseClosed.v1.json").unlink()
    (tmp_path / "json" / "notes.json").write_text("{}\n")
    problems = export.check(tmp_path)
    assert "json/CaseClosed.v1.json: missing" in problems
    assert any(p.startswith("json/notes.json: not produced by the export") for p in problems)


def test_a_file_with_an_invalid_version_is_reported(tmp_path: Path) -> None:
    export.write(tmp_path)
    (tmp_path / "json" / "CaseClosed.v0.json").write_text("{}\n")
    assert any("CaseClosed.v0.json" in p for p in export.check(tmp_path))


def test_write_refuses_a_breaking_change_to_a_committed_version(tmp_path: Path) -> None:
    export.write(tmp_path)
    target = tmp_path / "json" / "CaseClosed.v1.json"
    committed = json.loads(target.read_text())
    committed["properties"]["reason"] = {"type": "string"}  # the committed v1 had a field the model dropped
    target.write_text(export.dumps(committed))
    with pytest.raises(export.BreakingChangeError, match="reason: field removed"):
        export.write(tmp_path)
    assert json.loads(target.read_text()) == committed
    assert export.main(["--dir", str(tmp_path)]) == 1


def test_upcaster_predicate_reads_the_given_registry() -> None:
    events = EventRegistry()

    class Pinged(Event):
        event_type = "Pinged"
        schema_version = 2

    events.register(Pinged)
    events.upcaster("Pinged", 1)(lambda payload: payload)
    has = export.has_upcaster(events)
    assert has("Pinged", 1)
    assert not has("Pinged", 2)
