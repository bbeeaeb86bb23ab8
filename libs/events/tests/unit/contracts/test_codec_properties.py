"""Property tests of the codec over every registered event type, instances generated from the model fields.

Strategies are derived from each field's annotation and constraints (min/max length, ge/le, pattern), so a new
contract is covered without a new strategy - and a field type nobody taught this module fails loudly.
"""

from __future__ import annotations

import json
import types
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal, TypeVar, Union, get_args, get_origin
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from casefold_events.contracts import registry
from casefold_events.contracts.base import Event
from casefold_events.envelope import Actor, DecodeError, Envelope, Metadata, decode, encode, kafka_headers

M = TypeVar("M", bound=BaseModel)
EVENT_TYPES = sorted(registry.types())
ACTOR_ROLES = ["customer", "agent", "admin", "system"]
TRACEPARENT = r"00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]"

# Fixed offsets only: zoneinfo zones make instants in a DST fold compare unequal to themselves in UTC.
OFFSETS = st.builds(timezone, st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timedelta(minutes=m)))
AWARE = st.datetimes(datetime(1970, 1, 1), datetime(2200, 1, 1), timezones=st.just(UTC) | OFFSETS)


def constraint(info: FieldInfo, name: str) -> Any:
    return next((getattr(m, name) for m in info.metadata if getattr(m, name, None) is not None), None)


def value_of(annotation: Any, info: FieldInfo) -> st.SearchStrategy[Any]:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return st.one_of([value_of(arg, info) for arg in get_args(annotation)])
    if origin is Literal:
        return st.sampled_from(get_args(annotation))
    if origin is tuple:
        item, ellipsis = get_args(annotation)
        assert ellipsis is Ellipsis, annotation
        return st.lists(value_of(item, FieldInfo()), max_size=3).map(tuple)
    if annotation is type(None):
        return st.none()
    if annotation is bool:
        return st.booleans()
    if annotation is UUID:
        return st.uuids()
    if annotation is datetime:
        return st.datetimes(datetime(1970, 1, 1), datetime(2200, 1, 1)) | AWARE
    if annotation is int:
        low = constraint(info, "ge")
        high = constraint(info, "le")
        return st.integers(low, high)
    if annotation is str:
        low, high = constraint(info, "min_length") or 0, constraint(info, "max_length")
        pattern = constraint(info, "pattern")
        if pattern is not None:
            return st.from_regex(pattern, fullmatch=True).filter(lambda s: low <= len(s) <= (high or len(s)))
        return st.text(min_size=low, max_size=high)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return instances(annotation)
    raise TypeError(f"no strategy for {annotation!r}: teach value_of() this field type")


def instances(model: type[M]) -> st.SearchStrategy[M]:
    fields = {name: value_of(info.annotation, info) for name, info in model.model_fields.items()}
    return st.builds(model, **fields)


def envelopes(event: Event) -> st.SearchStrategy[Envelope]:
    metadata = st.builds(
        Metadata,
        actor=st.builds(Actor, user_id=st.none() | st.uuids(), role=st.sampled_from(ACTOR_ROLES)),
        correlation_id=st.none() | st.uuids(),
        causation_id=st.none() | st.uuids(),
        traceparent=st.none() | st.from_regex(TRACEPARENT, fullmatch=True),
    )
    return st.builds(
        Envelope.wrap,
        st.just(event),
        stream_id=st.uuids().map(str),
        stream_type=st.sampled_from(["Case", "User"]),
        stream_version=st.integers(1, 2**63 - 1),
        metadata=metadata,
        occurred_at=AWARE,
        event_id=st.uuids(),
    )


def events_with_envelopes(event_type: str) -> st.SearchStrategy[tuple[Event, Envelope]]:
    return instances(registry.model(event_type)).flatmap(lambda e: st.tuples(st.just(e), envelopes(e)))


PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_encode_then_decode_gives_back_the_event(event_type: str) -> None:
    @PROPERTY
    @given(events_with_envelopes(event_type))
    def roundtrip(pair: tuple[Event, Envelope]) -> None:
        event, envelope = pair
        decoded = decode(encode(envelope))
        assert decoded == envelope
        assert decoded.event() == event
        assert type(decoded.event()) is type(event)

    roundtrip()


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_kafka_headers_match_the_envelope(event_type: str) -> None:
    @PROPERTY
    @given(events_with_envelopes(event_type))
    def headers(pair: tuple[Event, Envelope]) -> None:
        _, envelope = pair
        found = {key: value.decode() for key, value in kafka_headers(envelope)}
        assert found["event_type"] == envelope.event_type == event_type
        assert found["event_id"] == str(envelope.event_id)
        assert found["schema_version"] == str(envelope.schema_version)
        assert found.get("traceparent") == envelope.traceparent

    headers()


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_generated_events_satisfy_their_exported_json_schema(event_type: str) -> None:
    import jsonschema

    from casefold_events_schemas import export

    topic = next(t for t in export.topics() if registry.model(event_type) in t.events)
    validator = jsonschema.Draft202012Validator(export.event_schema(registry.model(event_type), topic))
    envelope_validator = jsonschema.Draft202012Validator(export.envelope_schema())

    @PROPERTY
    @given(events_with_envelopes(event_type))
    def conforms(pair: tuple[Event, Envelope]) -> None:
        event, envelope = pair
        validator.validate(event.model_dump(mode="json"))
        envelope_validator.validate(json.loads(encode(envelope)))

    conforms()


@settings(max_examples=300)
@given(st.binary())
def test_random_bytes_raise_decode_error(value: bytes) -> None:
    with pytest.raises(DecodeError):
        decode(value)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300)
@given(st.dictionaries(st.sampled_from(sorted(Envelope.model_fields)), JSON) | JSON)
def test_arbitrary_json_either_decodes_or_raises_decode_error(document: Any) -> None:
    try:
        envelope = decode(json.dumps(document))
    except DecodeError:
        return
    assert isinstance(envelope, Envelope)


@settings(max_examples=100)
@given(st.text())
def test_random_text_raises_decode_error(value: str) -> None:
    with pytest.raises(DecodeError):
        decode(value)
