"""Upcasters bring old payloads forward one version at a time; a test-only event in its own registry."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from pydantic import Field, ValidationError

from casefold_events.contracts import registry as global_registry
from casefold_events.contracts.base import Event, EventRegistry

PARCEL = "00000000-0000-7000-8000-0000000000aa"


class ParcelShipped(Event):
    """v1 {parcel_id, weight} -> v2 renamed weight to weight_grams -> v3 added carrier (default "post")."""

    event_type = "ParcelShipped"
    schema_version = 3

    parcel_id: UUID
    weight_grams: int = Field(ge=0)
    carrier: str


def parcels() -> EventRegistry:
    events = EventRegistry()
    events.register(ParcelShipped)

    @events.upcaster("ParcelShipped", 1)
    def rename_weight(payload: dict[str, Any]) -> dict[str, Any]:
        old = dict(payload)
        return {**{k: v for k, v in old.items() if k != "weight"}, "weight_grams": old["weight"]}

    @events.upcaster("ParcelShipped", 2)
    def add_carrier(payload: dict[str, Any]) -> dict[str, Any]:
        return {**payload, "carrier": "post"}

    return events


def test_v1_payload_is_upcast_through_v2_to_v3() -> None:
    shipped = parcels().load("ParcelShipped", 1, {"parcel_id": PARCEL, "weight": 1200})
    assert shipped == ParcelShipped(parcel_id=UUID(PARCEL), weight_grams=1200, carrier="post")


def test_v2_payload_takes_only_the_last_step() -> None:
    shipped = parcels().load("ParcelShipped", 2, {"parcel_id": PARCEL, "weight_grams": 5})
    assert shipped == ParcelShipped(parcel_id=UUID(PARCEL), weight_grams=5, carrier="post")


def test_current_payload_is_loaded_as_is() -> None:
    payload = {"parcel_id": PARCEL, "weight_grams": 5, "carrier": "courier"}
    assert parcels().upcast("ParcelShipped", 3, payload) == payload


def test_upcasting_leaves_the_stored_payload_untouched() -> None:
    stored = {"parcel_id": PARCEL, "weight": 1200}
    parcels().load("ParcelShipped", 1, stored)
    assert stored == {"parcel_id": PARCEL, "weight": 1200}


def test_newer_version_than_the_code_knows_is_refused() -> None:
    with pytest.raises(ValueError, match=r"ParcelShipped v4 is newer than this code knows \(v3\)"):
        parcels().load("ParcelShipped", 4, {"parcel_id": PARCEL, "weight_grams": 5, "carrier": "post"})


def test_missing_upcaster_is_refused() -> None:
    events = EventRegistry()
    events.register(ParcelShipped)
    events.upcaster("ParcelShipped", 1)(lambda payload: {**payload, "weight_grams": payload["weight"]})
    with pytest.raises(ValueError, match="no upcaster for ParcelShipped from v2"):
        events.load("ParcelShipped", 1, {"parcel_id": PARCEL, "weight": 1})


def test_upcast_result_is_still_validated() -> None:
    with pytest.raises(ValidationError):
        parcels().load("ParcelShipped", 1, {"parcel_id": PARCEL, "weight": -1})


def test_unknown_event_type_is_refused() -> None:
    with pytest.raises(LookupError):
        parcels().load("ParcelLost", 1, {})


def test_a_second_model_for_the_same_event_type_is_refused() -> None:
    class Impostor(Event):
        event_type = "ParcelShipped"

    with pytest.raises(ValueError, match="already registered"):
        parcels().register(Impostor)


def test_test_only_events_stay_out_of_the_global_registry() -> None:
    parcels()
    assert "ParcelShipped" not in global_registry.types()


def test_json_loader_validates_current_payloads_and_upcasts_older_ones() -> None:
    events = parcels()
    current = events.json_loader("ParcelShipped", 3)
    old = events.json_loader("ParcelShipped", 1)

    assert current(f'{{"parcel_id": "{PARCEL}", "weight_grams": 5, "carrier": "courier"}}') == ParcelShipped(
        parcel_id=UUID(PARCEL), weight_grams=5, carrier="courier"
    )
    assert old(f'{{"parcel_id": "{PARCEL}", "weight": 7}}') == ParcelShipped(
        parcel_id=UUID(PARCEL), weight_grams=7, carrier="post"
    )
    with pytest.raises(ValidationError):
        current(f'{{"parcel_id": "{PARCEL}", "weight_grams": -1, "carrier": "courier"}}')
    with pytest.raises(ValidationError):
        current(f'{{"parcel_id": "{PARCEL}", "weight_grams": 1, "carrier": "courier", "extra": 1}}')


def test_json_loader_refuses_unknown_types_and_versions_from_the_future() -> None:
    with pytest.raises(LookupError):
        parcels().json_loader("ParcelLost", 1)
    with pytest.raises(ValueError, match="newer than this code knows"):
        parcels().json_loader("ParcelShipped", 4)(f'{{"parcel_id": "{PARCEL}"}}')
