"""Answers written once: a view that was validated when it was built goes to JSON through pydantic-core directly.

A route that returns a model makes FastAPI check it against the route's response_model and serialise it again (for
a page of twenty queue items, every field of every item passes through pydantic twice more). A route whose answer
is already of its response_model's type returns `view_response(view)`: the OpenAPI still names the model, and the
bytes are the ones FastAPI would have written (tests/unit/test_platform_responses.py holds them equal).
"""

from __future__ import annotations

from collections.abc import Sequence

import pydantic_core
from fastapi.responses import Response
from pydantic import BaseModel


def view_response(view: BaseModel | Sequence[BaseModel], status_code: int = 200) -> Response:
    """The view (or a list of views) as an application/json answer, serialised once."""
    if isinstance(view, BaseModel):
        body = view.__pydantic_serializer__.to_json(view)
    else:
        body = pydantic_core.to_json(list(view))
    return Response(body, status_code=status_code, media_type="application/json")
