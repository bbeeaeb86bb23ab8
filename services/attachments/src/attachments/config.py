"""Settings of the attachments service, from ATTACHMENTS_* environment variables, read once in the app factory."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from casefold_events.contracts import CASES_TOPIC
from casefold_platform.settings import ReceiptKeySettings, refuse_placeholder

MIB = 1024 * 1024
DEV_INTERNAL_API_KEY = "dev-attachments-internal-api-key-change-me"


class Settings(ReceiptKeySettings):
    """ATTACHMENTS_DATABASE_URL, ATTACHMENTS_STORAGE_BACKEND (filesystem | s3), ATTACHMENTS_MAX_FILE_BYTES, ..."""

    model_config = SettingsConfigDict(env_prefix="ATTACHMENTS_", extra="ignore", validate_by_name=True)

    database_url: str = "postgresql://postgres@127.0.0.1:55432/casefold_attachments"
    port: int = 8003
    # ATTACHMENTS_TOPIC: the name before the shared vocabulary (casefold_platform.settings).
    cases_topic: str = Field(
        default=CASES_TOPIC, validation_alias=AliasChoices("ATTACHMENTS_CASES_TOPIC", "ATTACHMENTS_TOPIC")
    )
    consumer_name: str = "attachments"

    storage_backend: Literal["filesystem", "s3"] = "filesystem"
    storage_dir: str = ".casefold/attachments"
    storage_fsync: bool = True
    s3_endpoint_url: str | None = None
    s3_bucket: str = "casefold-attachments"
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_part_bytes: int = Field(default=8 * MIB, ge=5 * MIB)
    s3_create_bucket: bool = False

    max_file_bytes: int = Field(default=25 * MIB, ge=1)
    max_files_per_request: int = Field(default=10, ge=1, le=100)
    max_files_per_case: int = Field(default=50, ge=1)
    max_bytes_per_case: int = Field(default=250 * MIB, ge=1)
    max_part_header_bytes: int = Field(default=8 * 1024, ge=256)

    unlinked_ttl: timedelta = timedelta(hours=24)
    cleanup_grace: timedelta = timedelta(hours=1)
    # How long an upload stays marked for collection (bytes kept, a late link restores it) before it is deleted.
    cleanup_purge_grace: timedelta = timedelta(days=7)
    cleanup_interval_seconds: float = Field(default=300.0, gt=0)
    # The bearer secret of /internal/attachments (notifications stores a reply's attachments); never routed.
    internal_api_key: SecretStr = SecretStr(DEV_INTERNAL_API_KEY)

    @model_validator(mode="after")
    def _s3_needs_an_endpoint_outside_production(self) -> Settings:
        if self.storage_backend == "s3" and not self.s3_endpoint_url and self.environment != "production":
            raise ValueError("ATTACHMENTS_S3_ENDPOINT_URL is needed for the s3 backend outside production")
        refuse_placeholder(
            self.environment, "ATTACHMENTS_INTERNAL_API_KEY", self.internal_api_key, DEV_INTERNAL_API_KEY
        )
        return self

    @property
    def max_request_bytes(self) -> int:
        """The body limit for the whole app: every file at its limit plus room for the multipart framing."""
        return self.max_files_per_request * (self.max_file_bytes + self.max_part_header_bytes + 1024) + 64 * 1024
