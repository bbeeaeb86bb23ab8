"""The OpenAPI side of the platform's answers: every error is RFC 9457 problem+json, and the answers the skeleton
itself gives (no token, a dependency down, a body too large, not JSON) are documented on every route they apply to.

Routes document their own domain answers (404, 409, ...) with problems(); document_platform_answers runs once over
the generated document, so a new route cannot forget a 401 or a 503, nor document a problem as application/json.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

from casefold_platform.problems import PROBLEM_CONTENT_TYPE

PROBLEM_REF = "#/components/schemas/Problem"
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before trying again", "schema": {"type": "integer"}}}


class FieldProblem(BaseModel):
    field: str = Field(description='where, as a dotted path: "body.severity", "query.cursor"')
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of the API is answered."""

    type: str = Field(description="a URI naming the kind of problem")
    title: str
    status: int
    detail: str = Field(description="what went wrong, in words a person can act on")
    error_id: str = Field(description="also in the X-Request-ID header; quote it in a support case")
    errors: list[FieldProblem] | None = Field(default=None, description="validation errors only: one per field")


def problems(when: Mapping[int, str]) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status with the Problem body as problem+json and when it is the answer."""
    return {
        status: {"model": Problem, "description": words, "content": {PROBLEM_CONTENT_TYPE: {}}}
        for status, words in when.items()
    }


# What the skeleton answers by itself, and to which operations.
PLATFORM_ANSWERS = {
    401: "no access token, or an invalid, expired or revoked one",
    503: "a dependency (the database) is down; retry after Retry-After seconds",
    413: "the body is larger than the limit",
    400: "the body is not valid JSON",
    415: "the body is not application/json",
    422: "invalid input: errors[] names each field",
}


def _platform_statuses(operation: dict[str, Any]) -> list[int]:
    statuses = [503]
    if operation.get("security"):
        statuses.append(401)
    body = operation.get("requestBody")
    if body is not None:
        statuses.append(413)
        if "application/json" in body.get("content", {}):
            statuses += [400, 415, 422]
    return statuses


def _document(document: dict[str, Any]) -> None:
    problem = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": PROBLEM_REF}}}
    used = False
    for item in document.get("paths", {}).values():
        for operation in item.values():
            responses = operation.get("responses")
            if not isinstance(responses, dict):
                continue
            for status in _platform_statuses(operation):
                responses.setdefault(str(status), {"description": PLATFORM_ANSWERS[status]})
            for status, response in responses.items():
                if status[:1] in "45":
                    # FastAPI's own 422 (HTTPValidationError) and any error filed under application/json: the
                    # handlers answer every error as a Problem in problem+json.
                    response["content"] = problem
                    used = True
                    if status in ("429", "503"):
                        response.setdefault("headers", RETRY_AFTER)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    if used and "Problem" not in schemas:
        schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schemas["Problem"].pop("$defs", {}))
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused in schemas and f"#/components/schemas/{unused}" not in str(document.get("paths")):
            del schemas[unused]


def document_platform_answers(app: FastAPI) -> None:
    """Wrap app.openapi: the platform's answers added where they apply, every error documented as a Problem."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            _document(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
