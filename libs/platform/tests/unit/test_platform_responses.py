"""view_response writes the bytes FastAPI's own serialisation of the response_model would write."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict, Field

from casefold_platform.responses import view_response


class Person(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: UUID
    display_name: str | None = Field(description="null while unknown")


class Item(BaseModel):
    model_config = ConfigDict(frozen=True)
    number: str
    status: Literal["open", "closed"]
    opened_at: datetime
    closed_at: datetime | None
    assignee: Person | None
    people: list[Person]
    score: float


class Page(BaseModel):
    model_config = ConfigDict(frozen=True)
    items: list[Item]
    next_cursor: str | None


def _items() -> list[Item]:
    person = Person(id=UUID("00000000-0000-4000-8000-000000000001"), display_name='Zoë "Z" <z>')
    return [
        Item(number="00001042", status="open", opened_at=datetime(2026, 12, 1, 9, 30, 0, 123456, tzinfo=UTC),
             closed_at=None, assignee=person, people=[person, person], score=0.1),
        Item(number="00001043", status="closed", opened_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
             closed_at=datetime(2026, 12, 2, tzinfo=UTC), assignee=None, people=[], score=1e21),
    ]  # fmt: skip


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/fastapi/page", response_model=Page)
    async def fastapi_page() -> Page:
        return Page(items=_items(), next_cursor="abc")

    @app.get("/ours/page", response_model=Page)
    async def our_page() -> object:
        return view_response(Page(items=_items(), next_cursor="abc"))

    @app.get("/fastapi/list", response_model=list[Item])
    async def fastapi_list() -> list[Item]:
        return _items()

    @app.get("/ours/list", response_model=list[Item])
    async def our_list() -> object:
        return view_response(_items(), status_code=203)

    return app


def test_a_view_is_written_byte_for_byte_as_fastapi_writes_its_response_model() -> None:
    client = TestClient(_app())
    theirs, ours = client.get("/fastapi/page"), client.get("/ours/page")
    assert ours.content == theirs.content
    assert ours.headers["content-type"] == theirs.headers["content-type"] == "application/json"


def test_a_list_of_views_is_written_as_fastapi_writes_it_with_the_status_asked_for() -> None:
    client = TestClient(_app())
    theirs, ours = client.get("/fastapi/list"), client.get("/ours/list")
    assert ours.content == theirs.content
    assert ours.status_code == 203


def test_the_openapi_still_names_the_response_model() -> None:
    paths = _app().openapi()["paths"]
    assert paths["/ours/page"]["get"]["responses"]["200"] == paths["/fastapi/page"]["get"]["responses"]["200"]
