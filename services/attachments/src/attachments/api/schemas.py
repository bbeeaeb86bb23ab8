"""DTOs of the attachments API."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class StoredFile(BaseModel):
    """What every answer says about a stored file."""

    model_config = ConfigDict(extra="forbid")

    id: UUID
    filename: str = Field(max_length=255)
    size: int
    content_type: str = Field(max_length=255)
    sha256: str = Field(max_length=64)


class AttachmentUploaded(StoredFile):
    """One stored file and the reference to present to the cases service."""

    reference: str = Field(max_length=4096, description="signed receipt: pass it to POST /api/cases or .../attachments")


class AttachmentMeta(StoredFile):
    """What is known about a stored file."""

    uploaded_by: UUID
    uploaded_at: datetime
    case_id: UUID | None = None
    linked_at: datetime | None = None


UPLOAD_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "array", "items": {"type": "string", "format": "binary"}},
                        "case_id": {
                            "type": "string",
                            "format": "uuid",
                            "description": "optional: check this case's limits now",
                        },
                    },
                }
            }
        },
    }
}
