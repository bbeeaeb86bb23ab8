"""The problem+json answers of the cases routes, described once for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from casefold_platform.openapi import Problem
from casefold_platform.problems import PROBLEM_CONTENT_TYPE, FieldError, InvalidInput, problem_response, request_id_of
from cases.domain.errors import InvalidCursor, InvalidField

WHEN = {
    400: "the body is not JSON",
    401: "no access token, or an invalid, expired or revoked one",
    403: "the caller may not do this (the detail says why)",
    404: "no such case, or one the caller may not see (the same answer)",
    409: "the case is closed (open a new case), a concurrent change, or an Idempotency-Key reused with another body",
    413: "the body is larger than the limit",
    422: "invalid input: errors[] names each field",
    503: "a dependency (the database) is down; retry after Retry-After seconds",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these problem statuses (401 and 503 are on every route already)."""
    return {
        status: {
            "model": Problem,  # registers the schema (the platform documents every error as problem+json only)
            "description": WHEN[status],
            "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


EVERY_ROUTE = problems(401, 503)


def invalid_query(name: str, message: str) -> InvalidInput:
    """A 422 naming one query parameter."""
    return InvalidInput(message, errors=[FieldError(f"query.{name}", message)])


async def _invalid_field(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidField)
    # A command's fields come from the request body ("product" is "body.product"), a page's cursor from the query.
    place = "query" if isinstance(exc, InvalidCursor) else "body"
    located = InvalidInput(exc.message, errors=[FieldError(f"{place}.{exc.field}", exc.message)])
    return problem_response(located, request_id_of(request))


def command_fields_in_body(app: FastAPI) -> None:
    """A domain error naming a field answers with that field's place in the request."""
    app.add_exception_handler(InvalidField, _invalid_field)
