"""Settings of the cases service, from CASES_* environment variables, read once in the app factory."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from casefold_events.contracts import CASES_TOPIC

DEV_ATTACHMENT_RECEIPT_KEY = "dev-attachment-receipt-key-change-me"
DEFAULT_JWKS_URL = "http://127.0.0.1:8001/api/identity/.well-known/jwks.json"


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


class Settings(BaseSettings):
    """CASES_DATABASE_URL, CASES_PRODUCTS (JSON list of {id, name}), CASES_SNAPSHOT_EVERY, ..."""

    model_config = SettingsConfigDict(env_prefix="CASES_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "postgresql://postgres@127.0.0.1:55432/casefold_cases"
    kafka_bootstrap_servers: str = "127.0.0.1:59092"
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_sasl_mechanism: str | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    metrics_port: int | None = None
    jwks_url: str = DEFAULT_JWKS_URL
    topic: str = CASES_TOPIC
    products: tuple[Product, ...] = DEFAULT_PRODUCTS
    snapshot_every: int = Field(default=50, ge=0)
    attachment_receipt_key: SecretStr = SecretStr(DEV_ATTACHMENT_RECEIPT_KEY)
    command_retries: int = Field(default=3, ge=0, le=10)
    pool_min_size: int = Field(default=2, ge=1)
    pool_max_size: int = Field(default=10, ge=1)
    run_migrations: bool | None = None
    run_workers: bool | None = None
    host: str = "127.0.0.1"
    port: int = 8002
    log_level: str = "INFO"
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if not self.products:
            raise ValueError("CASES_PRODUCTS must list at least one product")
        if len({p.id for p in self.products}) != len(self.products):
            raise ValueError("CASES_PRODUCTS has duplicate ids")
        if self.environment == "production":
            key = self.attachment_receipt_key.get_secret_value()
            if key == DEV_ATTACHMENT_RECEIPT_KEY or len(key) < 32:
                raise ValueError("CASES_ATTACHMENT_RECEIPT_KEY must be set to a real secret (32+ chars) in production")
        return self

    @property
    def migrate_on_start(self) -> bool:
        """Apply migrations in the lifespan: on by default in development and test, a Job does it in production."""
        if self.run_migrations is not None:
            return self.run_migrations
        return self.environment != "production"

    @property
    def workers_in_process(self) -> bool:
        """Run the outbox relay inside the API process: development only, unless told otherwise."""
        if self.run_workers is not None:
            return self.run_workers
        return self.environment == "development"

    @property
    def receipt_key(self) -> bytes:
        return self.attachment_receipt_key.get_secret_value().encode()

    def kafka_options(self) -> dict[str, Any]:
        """aiokafka client options beyond bootstrap_servers (SASL in production)."""
        options: dict[str, Any] = {"security_protocol": self.kafka_security_protocol}
        if self.kafka_sasl_mechanism:
            options["sasl_mechanism"] = self.kafka_sasl_mechanism
            options["sasl_plain_username"] = self.kafka_sasl_username
            if self.kafka_sasl_password is not None:
                options["sasl_plain_password"] = self.kafka_sasl_password.get_secret_value()
        return options

    def product(self, product_id: str) -> Product | None:
        return next((p for p in self.products if p.id == product_id), None)
