"""Settings of the cases service, from CASES_* environment variables, read once in the app factory."""

from __future__ import annotations

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from casefold_events.contracts import CASES_TOPIC, IDENTITY_TOPIC
from casefold_platform.settings import DEV_RECEIPT_KEY, ReceiptKeySettings, refuse_placeholder
from cases.domain.model import DEFAULT_MAX_COMMENTS_PER_CASE
from cases.domain.views import COUNT_CAP
from cases.sla_config import SlaSettings

DEV_INTERNAL_API_KEY = "dev-internal-api-key-change-me"


class Product(BaseModel):
    """One entry of the product catalogue a case is opened against."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1, max_length=200)


DEFAULT_PRODUCTS = (
    Product(id="casefold-cloud", name="Casefold Cloud"),
    Product(id="casefold-server", name="Casefold Server"),
    Product(id="casefold-mobile", name="Casefold Mobile"),
    Product(id="casefold-api", name="Casefold API"),
    Product(id="casefold-analytics", name="Casefold Analytics"),
)


class Settings(SlaSettings, ReceiptKeySettings):
    """CASES_DATABASE_URL, CASES_PRODUCTS (JSON list of {id, name}), CASES_SNAPSHOT_EVERY, ..."""

    model_config = SettingsConfigDict(env_prefix="CASES_", extra="ignore", validate_by_name=True)

    database_url: str = "postgresql://postgres@127.0.0.1:55432/casefold_cases"
    port: int = 8002
    # CASES_TOPIC and CASES_ATTACHMENT_RECEIPT_KEY: the names before the shared vocabulary (casefold_platform.settings).
    events_topic: str = Field(default=CASES_TOPIC, validation_alias=AliasChoices("CASES_EVENTS_TOPIC", "CASES_TOPIC"))
    # The user directory is projected from identity's events by the consumer group `consumer_name`; its poison
    # events go to `<consumer_name>.dlq`. Resetting the group's offsets to the earliest rebuilds the directory.
    identity_topic: str = IDENTITY_TOPIC
    consumer_name: str = "cases"
    products: tuple[Product, ...] = DEFAULT_PRODUCTS
    snapshot_every: int = Field(default=50, ge=0)
    receipt_key: SecretStr = Field(
        default=SecretStr(DEV_RECEIPT_KEY),
        validation_alias=AliasChoices("CASES_RECEIPT_KEY", "CASES_ATTACHMENT_RECEIPT_KEY"),
    )
    # The bearer secret of /internal/cases (notifications' replies by email); the gateway never routes /internal.
    internal_api_key: SecretStr = SecretStr(DEV_INTERNAL_API_KEY)
    # A case's page and its replay stay bounded; past this a conversation goes on in a new case (409 case-full).
    max_comments_per_case: int = Field(default=DEFAULT_MAX_COMMENTS_PER_CASE, ge=1)
    command_retries: int = Field(default=3, ge=0, le=10)
    # An agent's case counts stop at this many and say so (CaseCounts.*_capped; the portal shows "1,000+"):
    # counting every match of a common word costs a read of each.
    count_cap: int = Field(default=COUNT_CAP, ge=1)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)

    @model_validator(mode="after")
    def _check_products(self) -> Settings:
        if not self.products:
            raise ValueError("CASES_PRODUCTS must list at least one product")
        if len({p.id for p in self.products}) != len(self.products):
            raise ValueError("CASES_PRODUCTS has duplicate ids")
        refuse_placeholder(self.environment, "CASES_INTERNAL_API_KEY", self.internal_api_key, DEV_INTERNAL_API_KEY)
        if self.controllable_clock and self.environment == "production":
            raise ValueError("CASES_CONTROLLABLE_CLOCK is for tests and development, never production")
        return self

    def product(self, product_id: str) -> Product | None:
        return next((p for p in self.products if p.id == product_id), None)
