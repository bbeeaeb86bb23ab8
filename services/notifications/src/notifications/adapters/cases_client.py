"""The cases service's private command route, as notifications calls it (replies by email become comments)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx


@dataclass(frozen=True)
class CasesAnswer:
    status: int
    body: dict[str, Any]

    @property
    def detail(self) -> str:
        return str(self.body.get("detail") or self.body.get("title") or f"HTTP {self.status}")

    @property
    def problem(self) -> str:
        """The last part of a problem's type URI ("case-closed", "case-full", ...); empty when there is none."""
        return str(self.body.get("type") or "").rstrip("/").rpartition("/")[2]


def answer_of(response: httpx.Response) -> CasesAnswer:
    """A service's answer: its status and JSON object (empty when the body is not one)."""
    try:
        data = response.json()
    except ValueError:
        data = {}
    return CasesAnswer(response.status_code, data if isinstance(data, dict) else {})


class CasesClient:
    """POST /internal/cases/{id}/comments and .../attachments with the service key; network failures raise
    httpx.HTTPError."""

    def __init__(self, base_url: str, api_key: str, client: httpx.AsyncClient | None = None) -> None:
        self._client = client or httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=10)
        self._headers = {"Authorization": f"Bearer {api_key}"}

    async def add_comment(
        self, case_id: UUID, author_id: UUID, author_role: str, body: str, inbound_message_id: str
    ) -> CasesAnswer:
        payload = {"author_id": str(author_id), "author_role": author_role, "body": body,
                   "inbound_message_id": inbound_message_id}  # fmt: skip
        return await self._post(f"/internal/cases/{case_id}/comments", payload)

    async def add_attachment(self, case_id: UUID, author_id: UUID, author_role: str, reference: str) -> CasesAnswer:
        """201 added, 200 already on the case (a retry); 404/409/422 as for an upload's reference."""
        payload = {"author_id": str(author_id), "author_role": author_role, "reference": reference}
        return await self._post(f"/internal/cases/{case_id}/attachments", payload)

    async def _post(self, path: str, payload: dict[str, Any]) -> CasesAnswer:
        return answer_of(await self._client.post(path, json=payload, headers=self._headers))

    async def close(self) -> None:
        await self._client.aclose()
