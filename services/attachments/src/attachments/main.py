"""The attachments service's app factory (served with `uvicorn --factory attachments.main:create_app`)."""

from __future__ import annotations

from fastapi import FastAPI

from casefold_events.platform.app import service_app


def create_app() -> FastAPI:
    """Build the attachments app; pools and clients are created in the lifespan, never at import time."""
    return service_app("attachments")
