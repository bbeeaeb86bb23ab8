"""The attachments service's private store route, as notifications calls it (the attachments of a reply by email)."""

from __future__ import annotations

from uuid import UUID

import httpx

from notifications.adapters.cases_client import CasesAnswer, answer_of


class AttachmentsClient:
    """PUT /internal/attachments/{id} with the service key; network failures raise httpx.HTTPError."""

    def __init__(self, base_url: str, api_key: str, client: httpx.AsyncClient | None = None) -> None:
        self._client = client or httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=60)
        self._headers = {"Authorization": f"Bearer {api_key}"}

    async def store(
        self,
        attachment_id: UUID,
        author_id: UUID,
        author_role: str,
        case_id: UUID,
        filename: str,
        content_type: str,
        content: bytes,
    ) -> CasesAnswer:
        """201 stored, 200 stored before (the same id); 413/415/422 a part the attachments rules refuse."""
        response = await self._client.put(
            f"/internal/attachments/{attachment_id}",
            params={"uploaded_by": str(author_id), "role": author_role},
            data={"case_id": str(case_id)},
            files={"file": (filename, content, content_type)},
            headers=self._headers,
        )
        return answer_of(response)

    async def close(self) -> None:
        await self._client.aclose()
