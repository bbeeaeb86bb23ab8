"""The skeleton documents the answers it gives by itself, and every error as a Problem in problem+json."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from casefold_platform.app import service_app
from casefold_platform.auth import CurrentPrincipal
from casefold_platform.openapi import problems

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


class Note(BaseModel):
    text: str


def _document() -> dict[str, Any]:
    app = service_app("cases")

    @app.get("/api/cases/{case_id}", responses=problems({404: "no such case"}))
    async def get_case(case_id: int, principal: CurrentPrincipal) -> dict[str, int]:
        """One case."""
        return {"id": case_id}

    @app.post("/api/cases/{case_id}/notes", status_code=201)
    async def add_note(case_id: int, note: Note, principal: CurrentPrincipal) -> dict[str, str]:
        """A note."""
        return {"text": note.text}

    @app.get("/api/cases/public/products")
    async def products() -> list[str]:
        """Public."""
        return []

    document: dict[str, Any] = app.openapi()
    return document


def test_a_protected_route_documents_401_and_503_beside_its_own_answers() -> None:
    responses = _document()["paths"]["/api/cases/{case_id}"]["get"]["responses"]

    assert set(responses) == {"200", "401", "404", "422", "503"}
    assert responses["404"]["description"] == "no such case"
    assert responses["503"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}


def test_a_json_body_route_documents_the_answers_to_a_body_it_cannot_take() -> None:
    responses = _document()["paths"]["/api/cases/{case_id}/notes"]["post"]["responses"]

    assert {"400", "413", "415", "422"} <= set(responses)


def test_a_public_route_documents_no_401() -> None:
    responses = _document()["paths"]["/api/cases/public/products"]["get"]["responses"]

    assert set(responses) == {"200", "503"}


def test_every_error_is_documented_as_a_problem_in_problem_json_only() -> None:
    document = _document()

    errors = [
        response["content"]
        for item in document["paths"].values()
        for operation in item.values()
        for status, response in operation["responses"].items()
        if int(status) >= 400
    ]
    assert errors
    assert all(content == PROBLEM for content in errors)
    schemas = document["components"]["schemas"]
    assert {"Problem", "FieldProblem"} <= set(schemas)
    assert not {"HTTPValidationError", "ValidationError"} & set(schemas)
