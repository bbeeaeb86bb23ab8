"""Settings of the notifications service, from NOTIFICATIONS_* environment variables, read once in the app factory."""

from __future__ import annotations

from email.utils import parseaddr

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from casefold_events.contracts import CASES_TOPIC, IDENTITY_MAIL_TOPIC, IDENTITY_TOPIC
from casefold_platform.settings import ServiceSettings, refuse_placeholder

DEV_REPLY_TOKEN_KEY = "dev-reply-token-key-change-me"  # noqa: S105 - a placeholder refused in production
DEV_CASES_INTERNAL_API_KEY = "dev-internal-api-key-change-me"  # the cases service's development default
DEV_ATTACHMENTS_INTERNAL_API_KEY = "dev-attachments-internal-api-key-change-me"  # attachments' development default


class Settings(ServiceSettings):
    """NOTIFICATIONS_DATABASE_URL, NOTIFICATIONS_SMTP_HOST, NOTIFICATIONS_SUPPORT_ADDRESS, ..."""

    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore")

    database_url: str = "postgresql://postgres@127.0.0.1:55432/casefold_notifications"
    port: int = 8004
    consumer_name: str = "notifications"
    cases_topic: str = CASES_TOPIC
    identity_topic: str = IDENTITY_TOPIC
    identity_mail_topic: str = IDENTITY_MAIL_TOPIC
    # The mail topic carries confirmation links: its failures go to a dead-letter topic of their own, which only
    # notifications may read, never to the shared <consumer_name>.dlq. Unset: <consumer_name>.mail.dlq.
    mail_dead_letter_topic: str | None = None

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_ca_file: str | None = None  # a CA bundle to verify the server's certificate with (private CAs)
    smtp_keepalive_seconds: float = Field(default=30.0, ge=0)  # an idle connection is closed after this long
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    from_address: str = "Casefold Support <support@casefold.local>"
    support_address: str = "support-team@casefold.local"
    public_url: str = "http://127.0.0.1:8080"
    message_id_domain: str = "casefold.local"

    # SMTP connections the delivery loop sends over concurrently (each holds a pool connection while it sends).
    smtp_connections: int = Field(default=4, ge=1, le=32)
    delivery_batch_size: int = Field(default=50, ge=1, le=1000)
    # Records of one partition handled in one transaction by the consumer.
    consumer_batch_size: int = Field(default=100, ge=1, le=1000)
    # How long the broker holds a fetch open when there is nothing new (aiokafka's default is 500 ms). A batch that
    # takes longer than aiokafka's prefetch backoff (100 ms: a slow fsync) lets the fetcher send a fetch for the idle
    # topics alone, and the busy topic's next fetch waits behind it this long: the bound of that stall.
    consumer_fetch_max_wait_ms: int = Field(default=100, ge=1, le=500)
    delivery_poll_seconds: float = Field(default=1.0, gt=0)
    # No attempt limit: only a 5xx answer for the message itself fails it (`python -m notifications redrive`).
    retry_initial_seconds: float = Field(default=2.0, gt=0)
    retry_max_seconds: float = Field(default=600.0, gt=0)
    # While the server cannot be reached the loop itself backs off (capped); no email is charged for it.
    connect_retry_max_seconds: float = Field(default=60.0, gt=0)
    # How often emails waiting for their recipient are matched against the directory again (a safety net for a
    # CaseOpened and its owner's UserRegistered handled at the same moment by two workers).
    waiting_sweep_seconds: float = Field(default=30.0, gt=0)

    # Inbound mail: replies by email. Off unless a port is given (the worker, or the app under development).
    inbound_smtp_host: str = "127.0.0.1"
    inbound_smtp_port: int | None = Field(default=None, ge=1, le=65535)
    inbound_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    inbound_rate_per_hour: int = Field(default=30, ge=1)
    reply_domain: str = "casefold.local"  # reply addresses are support+<token>@<reply_domain>
    reply_token_key: SecretStr = SecretStr(DEV_REPLY_TOKEN_KEY)
    cases_internal_url: str = "http://127.0.0.1:8002"
    cases_internal_api_key: SecretStr = SecretStr(DEV_CASES_INTERNAL_API_KEY)
    attachments_internal_url: str = "http://127.0.0.1:8003"
    attachments_internal_api_key: SecretStr = SecretStr(DEV_ATTACHMENTS_INTERNAL_API_KEY)

    @model_validator(mode="after")
    def _check(self) -> Settings:
        refuse_placeholder(self.environment, "NOTIFICATIONS_REPLY_TOKEN_KEY", self.reply_token_key, DEV_REPLY_TOKEN_KEY)
        refuse_placeholder(self.environment, "NOTIFICATIONS_CASES_INTERNAL_API_KEY", self.cases_internal_api_key,
                           DEV_CASES_INTERNAL_API_KEY)  # fmt: skip
        refuse_placeholder(self.environment, "NOTIFICATIONS_ATTACHMENTS_INTERNAL_API_KEY",
                           self.attachments_internal_api_key, DEV_ATTACHMENTS_INTERNAL_API_KEY)  # fmt: skip
        for name in ("from_address", "support_address"):
            if "@" not in parseaddr(getattr(self, name))[1]:
                raise ValueError(f"NOTIFICATIONS_{name.upper()} is not an email address")
        if self.smtp_connections >= self.pool_max_size:
            raise ValueError(
                "NOTIFICATIONS_SMTP_CONNECTIONS must be below NOTIFICATIONS_POOL_MAX_SIZE (each sending "
                "connection holds a database connection; the consumer and the API need theirs)"
            )
        if self.environment == "production" and self.smtp_username and not self.smtp_starttls:
            raise ValueError("NOTIFICATIONS_SMTP_STARTTLS must be on when SMTP credentials are used in production")
        return self

    @property
    def topics(self) -> list[str]:
        return [self.cases_topic, self.identity_topic, self.identity_mail_topic]

    @property
    def dead_letter_topics(self) -> dict[str, str]:
        """Source topic -> its own dead-letter topic; the other topics' failures go to <consumer_name>.dlq."""
        return {self.identity_mail_topic: self.mail_dead_letter_topic or f"{self.consumer_name}.mail.dlq"}

    @property
    def support_mailbox(self) -> str:
        """The bare From address of our emails: a reply to it (a client that ignores Reply-To) is matched by its
        threading headers."""
        return parseaddr(self.from_address)[1]
