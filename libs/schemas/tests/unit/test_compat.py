"""compat.py on synthetic before/after schemas: every breaking kind is caught, widening is allowed."""

from __future__ import annotations

import copy
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from casefold_events_schemas.compat import ChangeKind, breaking_changes, compatibility_report


def schema(**properties: dict[str, Any]) -> dict[str, Any]:
    """An object schema in pydantic's shape: fields without a "default" are required."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": [name for name, prop in properties.items() if "default" not in prop],
    }


UUID_FIELD = {"type": "string", "format": "uuid"}
BEFORE = schema(
    case_id=UUID_FIELD,
    subject={"type": "string", "minLength": 1, "maxLength": 200},
    severity={"type": "integer", "minimum": 1, "maximum": 3},
    role={"type": "string", "enum": ["customer", "agent", "admin"]},
    note={"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
    internal={"type": "boolean", "default": False},
)


def changed(**edits: Any) -> dict[str, Any]:
    after = copy.deepcopy(BEFORE)
    for name, prop in edits.items():
        if prop is None:
            del after["properties"][name]
        else:
            after["properties"][name] = prop
    after["required"] = [n for n, p in after["properties"].items() if "default" not in p]
    return after


def kinds(old: dict[str, Any], new: dict[str, Any]) -> set[ChangeKind]:
    return {change.kind for change in breaking_changes(old, new)}


def test_identical_schemas_are_compatible() -> None:
    assert breaking_changes(BEFORE, copy.deepcopy(BEFORE)) == []


def test_adding_an_optional_field_is_allowed() -> None:
    assert breaking_changes(BEFORE, changed(tags={"type": "array", "items": {"type": "string"}, "default": []})) == []


@pytest.mark.parametrize(
    ("after", "why"),
    [
        (changed(subject={"type": "string", "minLength": 1, "maxLength": 500}), "a longer max_length"),
        (changed(severity={"type": "integer", "minimum": 0}), "a constraint dropped"),
        (changed(severity={"type": "number", "minimum": 1, "maximum": 3}), "integer widened to number"),
        (changed(role={"type": "string", "enum": ["customer", "agent", "admin", "system"]}), "an enum value added"),
        (changed(subject={"anyOf": [{"type": "string", "minLength": 1, "maxLength": 200}, {"type": "null"}]}), "null"),
        (changed(note={"title": "Note", "default": None}), "any value"),
    ],
)
def test_widening_is_allowed(after: dict[str, Any], why: str) -> None:
    assert breaking_changes(BEFORE, after) == [], why


def test_removed_field_is_breaking() -> None:
    [change] = breaking_changes(BEFORE, changed(subject=None))
    assert (change.kind, change.path) == (ChangeKind.FIELD_REMOVED, "$.subject")


def test_renamed_field_is_reported_as_a_rename() -> None:
    after = changed(subject=None, title={"type": "string", "minLength": 1, "maxLength": 200, "title": "Title"})
    [change] = breaking_changes(BEFORE, after)
    assert change.kind == ChangeKind.FIELD_RENAMED
    assert "'title'" in change.detail


def test_changed_type_is_breaking() -> None:
    assert kinds(BEFORE, changed(severity={"type": "string"})) == {ChangeKind.TYPE_CHANGED}


def test_narrowed_type_is_breaking() -> None:
    assert kinds(BEFORE, changed(note={"type": "string", "default": None})) == {ChangeKind.TYPE_CHANGED}
    assert kinds(BEFORE, changed(severity={"type": "integer", "minimum": 1, "maximum": 3, "format": "int32"})) == {
        ChangeKind.TYPE_CHANGED
    }


def test_new_required_field_without_default_is_breaking() -> None:
    [change] = breaking_changes(BEFORE, changed(product_id={"type": "string"}))
    assert (change.kind, change.path) == (ChangeKind.REQUIRED_FIELD_ADDED, "$.product_id")


def test_optional_field_becoming_required_is_breaking() -> None:
    assert kinds(BEFORE, changed(internal={"type": "boolean"})) == {ChangeKind.BECAME_REQUIRED}


def test_removed_enum_value_is_breaking() -> None:
    [change] = breaking_changes(BEFORE, changed(role={"type": "string", "enum": ["customer", "agent"]}))
    assert (change.kind, change.detail) == (ChangeKind.ENUM_VALUE_REMOVED, "'admin'")


@pytest.mark.parametrize(
    "after",
    [
        changed(subject={"type": "string", "minLength": 1, "maxLength": 100}),
        changed(subject={"type": "string", "minLength": 5, "maxLength": 200}),
        changed(subject={"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[A-Z]"}),
        changed(severity={"type": "integer", "minimum": 1, "maximum": 2}),
        changed(severity={"type": "integer", "minimum": 1, "maximum": 3, "multipleOf": 2}),
        changed(case_id={"type": "string", "format": "uuid", "maxLength": 36}),
        changed(note={"anyOf": [{"type": "string", "maxLength": 10}, {"type": "null"}], "default": None}),
        changed(role={"type": "string", "const": "customer"}),
    ],
)
def test_tightened_constraint_is_breaking(after: dict[str, Any]) -> None:
    assert kinds(BEFORE, after) & {ChangeKind.CONSTRAINT_TIGHTENED, ChangeKind.ENUM_VALUE_REMOVED}


def test_changed_default_is_breaking() -> None:
    assert kinds(BEFORE, changed(internal={"type": "boolean", "default": True})) == {ChangeKind.DEFAULT_CHANGED}


def test_forbidding_extra_properties_is_breaking() -> None:
    before = {**BEFORE, "additionalProperties": True}
    assert kinds(before, BEFORE) == {ChangeKind.CONSTRAINT_TIGHTENED}


def test_changes_inside_referenced_definitions_are_found_with_their_path() -> None:
    ref = {"type": "object", "properties": {"size": {"type": "integer"}, "name": {"type": "string"}}}
    before = {**schema(items={"type": "array", "items": {"$ref": "#/$defs/Ref"}}), "$defs": {"Ref": ref}}
    after = copy.deepcopy(before)
    del after["$defs"]["Ref"]["properties"]["size"]
    [change] = breaking_changes(before, after)
    assert (change.kind, change.path) == (ChangeKind.FIELD_REMOVED, "$.items[].size")


def test_recursive_schemas_terminate() -> None:
    node = {"type": "object", "properties": {"child": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}}}
    before = {"$ref": "#/$defs/Node", "$defs": {"Node": node}}
    assert breaking_changes(before, copy.deepcopy(before)) == []


class PaymentV1(BaseModel):
    amount: int = Field(ge=0)
    currency: Literal["EUR", "USD"]
    memo: str = Field(default="", max_length=140)


class PaymentNarrowed(BaseModel):
    amount: int = Field(ge=0)
    currency: Literal["EUR"]
    memo: str = Field(default="", max_length=70)
    payer: str


class PaymentWidened(BaseModel):
    amount: int = Field(ge=0)
    currency: Literal["EUR", "USD", "CHF"]
    memo: str | None = Field(default="", max_length=280)
    reference: str | None = None


def test_pydantic_generated_schemas_are_compared_like_hand_written_ones() -> None:
    old = PaymentV1.model_json_schema()
    assert breaking_changes(old, PaymentWidened.model_json_schema()) == []
    assert kinds(old, PaymentNarrowed.model_json_schema()) == {
        ChangeKind.ENUM_VALUE_REMOVED,
        ChangeKind.CONSTRAINT_TIGHTENED,
        ChangeKind.REQUIRED_FIELD_ADDED,
    }


def never(event_type: str, version: int) -> bool:
    return False


def test_report_refuses_a_breaking_change_within_a_version() -> None:
    [problem] = compatibility_report({("Paid", 1): BEFORE}, {"Paid": (1, changed(subject=None))}, never)
    assert "field removed" in problem
    assert "schema_version 2" in problem


def test_report_accepts_a_bump_with_upcaster_and_refuses_one_without() -> None:
    committed = {("Paid", 1): BEFORE}
    current = {"Paid": (2, changed(subject=None))}
    assert compatibility_report(committed, current, lambda t, v: (t, v) == ("Paid", 1)) == []
    assert compatibility_report(committed, current, never) == ["Paid: no upcaster from v1 to v2"]


def test_report_refuses_a_removed_event_type_and_a_version_going_back() -> None:
    problems = compatibility_report({("Gone", 1): BEFORE, ("Paid", 2): BEFORE}, {"Paid": (1, BEFORE)}, never)
    assert len(problems) == 2
    assert problems[0].startswith("Gone v1: no model")
    assert "v2 is committed but the model is at v1" in problems[1]


def test_report_refuses_moving_an_event_to_another_topic() -> None:
    old = {**BEFORE, "x-casefold-topic": "cases.events.v1"}
    new = {**BEFORE, "x-casefold-topic": "other.events.v1"}
    [problem] = compatibility_report({("Paid", 1): old}, {"Paid": (1, new)}, never)
    assert "moved from topic" in problem
