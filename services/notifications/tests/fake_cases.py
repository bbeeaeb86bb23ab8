"""A stand-in for the cases service's private routes (our own port, so tests may fake it): it keeps the comments and
attachments it was asked for, answers one Message-ID with one comment and one attachment id with one attachment
(verifying its receipt as cases does), and refuses closed cases like cases does."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse

from casefold_events import receipts
from casefold_platform.settings import DEV_RECEIPT_KEY
from notifications.adapters.cases_client import CasesClient
from notifications.config import DEV_CASES_INTERNAL_API_KEY


@dataclass
class FakeCases:
    comments: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    closed: set[uuid.UUID] = field(default_factory=set)
    full: set[uuid.UUID] = field(default_factory=set)  # cases at their comment limit
    calls: int = 0
    _by_message: dict[str, dict[str, Any]] = field(default_factory=dict)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/internal/cases/{case_id}/comments")
        async def comment(case_id: uuid.UUID, body: dict[str, Any], authorization: str = Header("")) -> JSONResponse:
            self.calls += 1
            if authorization != f"Bearer {DEV_CASES_INTERNAL_API_KEY}":
                return JSONResponse({"status": 401, "detail": "services only"}, status_code=401)
            if case_id in self.closed:
                detail = "The case is closed: a closed case cannot be changed. Open a new case instead."
                return JSONResponse({"status": 409, "detail": detail}, status_code=409)
            if case_id in self.full:
                problem = {
                    "type": "https://casefold.dev/problems/case-full",
                    "status": 409,
                    "detail": "Case 00000001 has reached its limit of 2 comments; open a new case to go on",
                }
                return JSONResponse(problem, status_code=409)
            key = body["inbound_message_id"]
            if key not in self._by_message:
                self._by_message[key] = {"id": str(uuid.uuid4()), "case_id": str(case_id), **body}
                self.comments.append(self._by_message[key])
            return JSONResponse(self._by_message[key], status_code=201)

        @app.post("/internal/cases/{case_id}/attachments")
        async def attach(case_id: uuid.UUID, body: dict[str, Any], authorization: str = Header("")) -> JSONResponse:
            if authorization != f"Bearer {DEV_CASES_INTERNAL_API_KEY}":
                return JSONResponse({"status": 401, "detail": "services only"}, status_code=401)
            receipt = receipts.verify(DEV_RECEIPT_KEY.encode(), body["reference"])
            if str(receipt.uploaded_by) != body["author_id"]:
                return JSONResponse({"status": 422, "detail": "not the author's upload"}, status_code=422)
            ref = receipt.attachment
            if any(a["id"] == str(ref.attachment_id) for a in self.attachments):
                return JSONResponse({"status": 200, "detail": "already on the case"}, status_code=200)
            added = {"id": str(ref.attachment_id), "case_id": str(case_id), "filename": ref.filename,
                     "sha256": ref.sha256, "added_by": body["author_id"]}  # fmt: skip
            self.attachments.append(added)
            return JSONResponse(added, status_code=201)

        return app

    def client(self) -> CasesClient:
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app()), base_url="http://cases.test")
        return CasesClient("http://cases.test", DEV_CASES_INTERNAL_API_KEY, client=http)
