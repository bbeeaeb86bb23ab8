"""OpenAPI documentation of the problem+json answers each route can give (the body is always RFC 9457)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from casefold_platform.problems import PROBLEM_CONTENT_TYPE


class FieldErrorRead(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, with the error_id to quote in a support case."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    error_id: str
    errors: list[FieldErrorRead] | None = None
    retry_after: int | None = None


_DEFAULTS = {
    400: "The request body is not valid JSON",
    401: "No valid access token",
    403: "The caller may not do this",
    404: "Not found",
    409: "A clash with the current state",
    413: "The request body is too large",
    415: "The body is not application/json",
    422: "Invalid fields, each named in errors[]",
    429: "Too many attempts; Retry-After says when to try again",
    503: "A dependency is unavailable; Retry-After says when to try again",
}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}


def problems(*statuses: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status with the Problem body; descriptions override as d400="..."."""
    result: dict[int | str, dict[str, Any]] = {}
    for status in (*statuses, 503):
        entry: dict[str, Any] = {
            "description": descriptions.get(f"d{status}", _DEFAULTS[status]),
            "model": Problem,
            "content": {PROBLEM_CONTENT_TYPE: {}},
        }
        if status in (429, 503):
            entry["headers"] = _RETRY_AFTER
        result[status] = entry
    return result
