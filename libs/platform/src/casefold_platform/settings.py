"""Settings every service shares; each service subclasses with its own env prefix and adds its own fields.

class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CASES_", extra="ignore")
    port: int = 8002

One vocabulary across services: a service names the topics of its own aggregate `events_topic` (and `mail_topic` for
its private mail commands), and another service's topics by their owner: `cases_topic`, `identity_topic`,
`identity_mail_topic`. Where a name changed, the old environment variable stays an alias (AliasChoices).
"""

from __future__ import annotations

import ssl
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings

from casefold_platform.auth import JwksVerifier
from casefold_platform.revocation import RevocationList

Environment = Literal["development", "test", "production"]
DEFAULT_JWKS_URL = "http://127.0.0.1:8001/api/identity/.well-known/jwks.json"
DEFAULT_REVOKED_TOKENS_URL = "http://127.0.0.1:8001/internal/identity/revoked-tokens"
# The development default of the attachment-receipt key: attachments signs with it and cases verifies, so both must
# start from the same value; production refuses it.
DEV_RECEIPT_KEY = "dev-attachment-receipt-key-change-me"


def refuse_placeholder(
    environment: Environment, name: str, value: SecretStr, placeholder: str, min_length: int = 32
) -> None:
    """Outside development and test a secret must be set, and not to the shipped placeholder."""
    if environment == "production" and (
        value.get_secret_value() == placeholder or len(value.get_secret_value()) < min_length
    ):
        raise ValueError(f"{name} must be set to a real secret ({min_length}+ characters) in production")


class ServiceSettings(BaseSettings):
    """Database, Kafka (SASL in production), auth, process and HTTP settings of a Casefold service."""

    environment: Environment = "development"
    database_url: str = "postgresql://postgres@127.0.0.1:55432/postgres"
    pool_min_size: int = Field(default=2, ge=1)
    pool_max_size: int = Field(default=10, ge=1)
    kafka_bootstrap_servers: str = "127.0.0.1:59092"
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: str | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    # The CA that signed the brokers' certificates (Strimzi's cluster CA) for SASL_SSL/SSL; None: the system's.
    kafka_ssl_cafile: str | None = None
    jwks_url: str = DEFAULT_JWKS_URL
    revoked_tokens_url: str | None = DEFAULT_REVOKED_TOKENS_URL
    run_migrations: bool | None = None
    run_workers: bool | None = None
    metrics_port: int | None = Field(default=None, description="the worker's Prometheus port (the API serves /metrics)")
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"

    @property
    def migrate_on_start(self) -> bool:
        """Apply migrations in the lifespan: on by default outside production, where a Job does it."""
        return self.run_migrations if self.run_migrations is not None else self.environment != "production"

    @property
    def workers_in_process(self) -> bool:
        """Run relay and consumers inside the API process: development only, unless told otherwise."""
        return self.run_workers if self.run_workers is not None else self.environment == "development"

    def jwt_verifier(self) -> JwksVerifier:
        """The access-token verifier: identity's JWKS, and its revocation list when one is configured."""
        revocations = RevocationList(self.revoked_tokens_url) if self.revoked_tokens_url else None
        return JwksVerifier(self.jwks_url, is_revoked=revocations.is_revoked if revocations else None)

    def kafka_options(self) -> dict[str, Any]:
        """aiokafka client options beyond bootstrap_servers (SASL, and TLS checked against the CA, where configured)."""
        options: dict[str, Any] = {"security_protocol": self.kafka_security_protocol}
        if self.kafka_security_protocol in ("SASL_SSL", "SSL"):
            # Verifies the certificate chain and the broker's host name (the bootstrap and per-broker service names).
            options["ssl_context"] = ssl.create_default_context(cafile=self.kafka_ssl_cafile)
        if self.kafka_sasl_mechanism:
            options["sasl_mechanism"] = self.kafka_sasl_mechanism
            options["sasl_plain_username"] = self.kafka_sasl_username
            if self.kafka_sasl_password is not None:
                options["sasl_plain_password"] = self.kafka_sasl_password.get_secret_value()
        return options


class ReceiptKeySettings(ServiceSettings):
    """ServiceSettings plus the attachment-receipt key, for the services that sign (attachments) or verify (cases)."""

    receipt_key: SecretStr = SecretStr(DEV_RECEIPT_KEY)

    @model_validator(mode="after")
    def _refuse_the_placeholder_receipt_key(self) -> ReceiptKeySettings:
        name = f"{self.model_config.get('env_prefix', '')}RECEIPT_KEY"
        refuse_placeholder(self.environment, name, self.receipt_key, DEV_RECEIPT_KEY)
        return self

    @property
    def receipt_key_bytes(self) -> bytes:
        """The key as the receipts module takes it."""
        return self.receipt_key.get_secret_value().encode()
