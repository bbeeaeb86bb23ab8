"""Settings of the identity service, from IDENTITY_* environment variables, read once in the app factory."""

from __future__ import annotations

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import SettingsConfigDict

from casefold_events.contracts import IDENTITY_MAIL_TOPIC, IDENTITY_TOPIC
from casefold_platform.settings import ServiceSettings

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:55432/casefold_identity"


class Settings(ServiceSettings):
    """IDENTITY_DATABASE_URL, IDENTITY_PUBLIC_URL, IDENTITY_SIGNING_KEYS, IDENTITY_ACCESS_TOKEN_SECONDS, ..."""

    model_config = SettingsConfigDict(env_prefix="IDENTITY_", extra="ignore", validate_by_name=True)

    database_url: str = DEFAULT_DATABASE_URL
    port: int = 8001
    # deploy/k8s sets IDENTITY_APPLY_MIGRATIONS, the name identity used before the shared settings.
    run_migrations: bool | None = Field(
        default=None, validation_alias=AliasChoices("IDENTITY_RUN_MIGRATIONS", "IDENTITY_APPLY_MIGRATIONS")
    )
    # Identity checks revocations in its own database (bootstrap.build_identity), not through its HTTP list.
    revoked_tokens_url: str | None = None

    events_topic: str = IDENTITY_TOPIC
    mail_topic: str = IDENTITY_MAIL_TOPIC
    public_url: str = "http://127.0.0.1:8080"
    terms_version: str = Field(default="2026-11", max_length=32)

    access_token_seconds: int = Field(default=900, ge=1, le=3600)
    refresh_token_days: int = Field(default=30, ge=1, le=365)
    confirmation_hours: int = Field(default=24, ge=1, le=24 * 14)
    password_reset_seconds: int = Field(default=3600, ge=60, le=24 * 3600)
    # The refresh cookie's Secure flag: browsers keep a Secure cookie on http://127.0.0.1 and localhost too, so
    # only a plain-http deployment on another host name needs it off.
    refresh_cookie_secure: bool = True
    # A PEM bundle of EC P-256 private keys (the last one signs); when set, the database keys are not used.
    signing_keys: str | None = None
    generate_signing_key: bool | None = None
    key_cache_seconds: float = 5.0

    # Each argon2 operation holds 64 MiB: 4 at once is 256 MiB, half the pod's 512 Mi limit (the rest is the
    # process itself). Raise it with the memory limit: about (limit - 256 MiB) / 64 MiB.
    max_concurrent_hashes: int = Field(default=4, ge=1, le=64)
    # Requests waiting for a slot; beyond this a password check answers 503 with Retry-After at once.
    hash_queue_size: int = Field(default=32, ge=0, le=10_000)
    hash_busy_retry_after_seconds: int = Field(default=2, ge=1, le=120)

    # An account that never confirmed its address is removed after this, so it cannot squat the address for ever.
    unverified_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=3600)

    # Failed logins never lock an account: after LOGIN_FREE_FAILURES from one client address (one /64 for IPv6),
    # that address waits 1, 2, 4 ... s after each further failure on that account (at most LOGIN_MAX_DELAY_SECONDS);
    # other addresses, the owner's, are not slowed until the account as a whole has LOGIN_FREE_FAILURES_PER_ACCOUNT
    # failures, and then by at most LOGIN_ACCOUNT_MAX_DELAY_SECONDS.
    login_free_failures: int = Field(default=5, ge=1)
    login_max_delay_seconds: int = Field(default=900, ge=1)
    login_free_failures_per_account: int = Field(default=50, ge=1)
    login_account_max_delay_seconds: int = Field(default=60, ge=1)
    login_failures_per_address: int = 30
    login_window_seconds: int = 900
    resend_per_email_per_hour: int = 3
    signups_per_address_per_hour: int = 20
    password_resets_per_email_per_hour: int = 3
    password_resets_per_address_per_hour: int = 20
    name_checks_per_address_per_minute: int = 60
    # Trust X-Forwarded-For only behind the gateway; otherwise anyone could choose their own rate-limit bucket.
    trust_forwarded_for: bool = False

    @property
    def is_local(self) -> bool:
        return self.environment in ("development", "test")

    @property
    def may_generate_signing_key(self) -> bool:
        return self.generate_signing_key if self.generate_signing_key is not None else self.is_local

    @model_validator(mode="after")
    def _refuse_local_defaults_in_production(self) -> Settings:
        if self.environment == "production":
            if self.database_url == DEFAULT_DATABASE_URL:
                raise ValueError("IDENTITY_DATABASE_URL must be set in production")
            if self.public_url.startswith("http://127.0.0.1"):
                raise ValueError("IDENTITY_PUBLIC_URL must be set in production")
        return self
