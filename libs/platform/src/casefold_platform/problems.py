"""RFC 9457 problem+json: the domain error hierarchy and the FastAPI handlers that map errors to HTTP once."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from casefold_events.transient import UNAVAILABLE

PROBLEM_BASE = "https://casefold.dev/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"
REQUEST_ID_HEADER = "X-Request-ID"
RETRY_AFTER_UNAVAILABLE = 5  # seconds: about a database failover or a broker restart

log = structlog.get_logger("casefold.problems")


@dataclass(frozen=True)
class FieldError:
    """One invalid input: a dotted path to the field ("body.severity") and what is wrong with it."""

    field: str
    message: str


class DomainError(Exception):
    """Base of the errors services raise; subclasses set status, slug and title, instances carry the detail."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(self, detail: str | None = None, *, headers: Mapping[str, str] | None = None, **extensions: Any):
        self.detail = detail or self.title
        self.headers: dict[str, str] = dict(headers or {})
        self.extensions: dict[str, Any] = extensions
        super().__init__(self.detail)

    @property
    def type(self) -> str:
        """The problem type URI."""
        return PROBLEM_BASE + self.slug


class NotFound(DomainError):
    """The resource does not exist, or the caller may not see it (the two are indistinguishable on purpose)."""

    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(DomainError):
    """The request conflicts with the resource's current state."""

    status = 409
    slug = "conflict"
    title = "Conflict"


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    status = 403
    slug = "forbidden"
    title = "Forbidden"


class Unauthorized(DomainError):
    """No valid credentials; always answered with WWW-Authenticate."""

    status = 401
    slug = "unauthorized"
    title = "Unauthorized"

    def __init__(self, detail: str | None = None, *, invalid_token: bool = True, **extensions: Any):
        # RFC 6750 3.1: name the error only when a token was presented.
        challenge = 'Bearer realm="casefold"'
        if invalid_token:
            challenge += ', error="invalid_token"'
        super().__init__(detail, headers={"WWW-Authenticate": challenge}, **extensions)


class InvalidInput(DomainError):
    """The input is well-formed but breaks a rule; lists the offending fields."""

    status = 422
    slug = "invalid-input"
    title = "Invalid input"

    def __init__(self, detail: str | None = None, *, errors: Sequence[FieldError] = (), **extensions: Any):
        super().__init__(detail, **extensions)
        self.extensions["errors"] = [{"field": e.field, "message": e.message} for e in errors]


class MalformedBody(DomainError):
    """The body cannot be parsed at all (not JSON, truncated)."""

    status = 400
    slug = "malformed-body"
    title = "Malformed request body"


class TooLarge(DomainError):
    """The request body exceeds the limit for this endpoint."""

    status = 413
    slug = "too-large"
    title = "Content too large"


class UnsupportedMediaType(DomainError):
    """The body's media type is not accepted here."""

    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class RateLimited(DomainError):
    """Too many requests; the client may retry after the given number of seconds."""

    status = 429
    slug = "rate-limited"
    title = "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: int, **extensions: Any):
        super().__init__(detail, headers={"Retry-After": str(retry_after)}, retry_after=retry_after, **extensions)


class ServiceUnavailable(DomainError):
    """A dependency this request needs is unavailable; retrying later may work."""

    status = 503
    slug = "service-unavailable"
    title = "Service unavailable"


class InternalError(DomainError):
    """An unexpected failure; the detail never says more than this."""

    status = 500
    slug = "internal-error"
    title = "Internal server error"

    def __init__(self) -> None:
        super().__init__("An unexpected error occurred. Quote the error_id when you contact support.")


def request_id_of(request: Request) -> str:
    """The id the request-id middleware assigned, or a fresh one when the app runs without it."""
    request_id = getattr(request.state, "request_id", None)
    if not isinstance(request_id, str):
        request_id = str(uuid.uuid4())
        request.state.request_id = request_id
    return request_id


def problem_response(error: DomainError, request_id: str) -> JSONResponse:
    """The problem+json response for an error, carrying error_id and the X-Request-ID header."""
    body: dict[str, Any] = {"type": error.type, "title": error.title, "status": error.status, "detail": error.detail}
    body.update((k, v) for k, v in error.extensions.items() if k not in body)
    body["error_id"] = request_id
    headers = {**error.headers, REQUEST_ID_HEADER: request_id}
    return JSONResponse(body, status_code=error.status, headers=headers, media_type=PROBLEM_CONTENT_TYPE)


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def validation_problem(exc: RequestValidationError, content_type: str | None = None) -> DomainError:
    """400 for unparseable JSON, 415 for a JSON body sent as something else, else 422 naming each invalid field."""
    errors = list(exc.errors())
    malformed = [e for e in errors if e.get("type") == "json_invalid"]
    if malformed:
        ctx = malformed[0].get("ctx") or {}
        reason = ctx.get("error", "invalid JSON")
        return MalformedBody(f"The request body is not valid JSON: {reason}.")
    # FastAPI does not parse a body whose Content-Type is not JSON, and then reports the whole body as the wrong type.
    whole_body_wrong = any(tuple(e.get("loc", ())) == ("body",) and e.get("type") != "missing" for e in errors)
    if whole_body_wrong and content_type and not _is_json(content_type):
        return UnsupportedMediaType(f"Send the body as application/json, not {content_type.split(';')[0]}.")
    # Never echo the rejected input back: it may be a password.
    fields = [FieldError(".".join(str(part) for part in e.get("loc", ())), str(e.get("msg", ""))) for e in errors]
    return InvalidInput("The request has invalid fields.", errors=fields)


class HttpProblem(DomainError):
    """A problem for a plain HTTPException (routing 404/405, or one raised by a library)."""

    def __init__(self, exc: StarletteHTTPException):
        try:
            phrase = HTTPStatus(exc.status_code).phrase
        except ValueError:
            phrase = "Error"
        self.status = exc.status_code
        self.slug = re.sub(r"[^a-z0-9]+", "-", phrase.lower()).strip("-")
        self.title = phrase
        # A library's 5xx detail may describe internals; clients get the phrase only.
        detail = exc.detail if isinstance(exc.detail, str) and exc.status_code < 500 else phrase
        super().__init__(detail, headers=exc.headers)


async def _domain_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return problem_response(exc, request_id_of(request))


async def _validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problem = validation_problem(exc, request.headers.get("content-type"))
    return problem_response(problem, request_id_of(request))


async def _http_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem_response(HttpProblem(exc), request_id_of(request))


def unexpected_problem(exc: BaseException, request_id: str) -> DomainError:
    """The answer to an error no handler expected, logged once with the error id.

    A dependency that is down (database restarting, connection refused, timed out) is a 503 with Retry-After: the
    request's transaction rolled back and trying again shortly works. Anything else is a 500 that says nothing more.
    """
    if isinstance(exc, UNAVAILABLE):
        log.warning("dependency_unavailable", error_id=request_id, error=type(exc).__name__)
        return ServiceUnavailable(
            "A service this request needs is unavailable; nothing was changed. Try again shortly.",
            headers={"Retry-After": str(RETRY_AFTER_UNAVAILABLE)},
        )
    log.error("unhandled_error", error_id=request_id, exc_info=exc)
    return InternalError()


async def _unhandled_error_handler(request: Request, exc: Exception) -> JSONResponse:
    request_id = request_id_of(request)
    return problem_response(unexpected_problem(exc, request_id), request_id)


def install_problem_handlers(app: FastAPI) -> None:
    """Map DomainError, validation errors, HTTPException and anything unexpected to problem+json."""
    app.add_exception_handler(DomainError, _domain_error_handler)
    app.add_exception_handler(RequestValidationError, _validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_exception_handler)
    # Reached only without RequestContextMiddleware, which answers unexpected errors itself (with the request id).
    app.add_exception_handler(Exception, _unhandled_error_handler)
