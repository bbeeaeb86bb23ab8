"""The local stack: which servers and services run where, from the environment with sensible defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from casefold_local.kafka import DEFAULT_PORT as KAFKA_PORT
from casefold_local.kafka import KafkaServer
from casefold_local.portal_build import portal_source_dir
from casefold_local.postgres import DEFAULT_PORT as PG_PORT
from casefold_local.postgres import PostgresServer
from casefold_local.procs import state_root


@dataclass(frozen=True)
class Service:
    """One HTTP service of the system: an importable app factory served by uvicorn."""

    name: str
    port: int
    factory: str

    @property
    def env_prefix(self) -> str:
        return f"{self.name.upper()}_"

    @property
    def database(self) -> str:
        return f"casefold_{self.name}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


SERVICES = (
    Service("identity", 8001, "identity.main:create_app"),
    Service("cases", 8002, "cases.main:create_app"),
    Service("attachments", 8003, "attachments.main:create_app"),
    Service("notifications", 8004, "notifications.main:create_app"),
)


def postgres() -> PostgresServer:
    return PostgresServer(state_root() / "postgres", port=int(os.environ.get("CASEFOLD_PG_PORT", PG_PORT)))


def kafka() -> KafkaServer:
    return KafkaServer(state_root() / "kafka", port=int(os.environ.get("CASEFOLD_KAFKA_PORT", KAFKA_PORT)))


def external_database_url() -> str | None:
    """DATABASE_URL names an external server (superuser or a role that may create databases): start none."""
    return os.environ.get("DATABASE_URL") or None


def external_kafka() -> str | None:
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or None


def database_server_dsn() -> str:
    return external_database_url() or postgres().dsn()


def kafka_bootstrap() -> str:
    return external_kafka() or kafka().bootstrap


def logs_dir() -> Path:
    return state_root() / "logs"


def service_port(service: Service) -> int:
    """<SVC>_PORT moves a service (the uvicorn port and every URL that points at it)."""
    return int(os.environ.get(f"{service.env_prefix}PORT", service.port))


@dataclass(frozen=True)
class Layout:
    """Where every part of a running system lives: one for `make run` (from the environment), one per e2e session."""

    state_dir: Path
    database_server_dsn: str
    kafka_bootstrap: str
    services: tuple[Service, ...] = SERVICES
    gateway_port: int = 8080
    gateway_admin_port: int = 9901
    smtp_port: int = 1025
    mail_http_port: int = 8025
    inbound_smtp_port: int = 2525  # notifications' own SMTP listener: replies to case emails
    cors_origins: tuple[str, ...] = ()
    # Logins the gateway lets through per minute (one bucket for every client locally): the browser tests, which
    # log in a few dozen people from one address within a minute, raise it; the limit itself is tested apart.
    gateway_login_burst: int = 10
    database_prefix: str = "casefold_"
    # Private topic and consumer-group names, for a system that shares a broker with another one (tests).
    topic_prefix: str = ""
    environment: str = "development"
    # The built portal (vite's output) that the gateway serves on every path outside /api/; None: the API only.
    portal_dist: Path | None = None
    portal_port: int = 8005
    # Where every service and the gateway send their spans (OTLP/HTTP base URL); None: no tracing.
    otlp_endpoint: str | None = None
    # The local trace viewer (casefold_local.traceviewer) on this port, receiving otlp_endpoint; None: not started.
    trace_viewer_port: int | None = None
    # More settings for every service process, e.g. (("CASES_CONTROLLABLE_CLOCK", "true"),) for a test system.
    extra_env: tuple[tuple[str, str], ...] = ()

    @property
    def trace_viewer_url(self) -> str | None:
        return None if self.trace_viewer_port is None else f"http://127.0.0.1:{self.trace_viewer_port}"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def mail_dir(self) -> Path:
        return self.state_dir / "mail"

    @property
    def gateway_dir(self) -> Path:
        return self.state_dir / "gateway"

    @property
    def openapi_file(self) -> Path:
        return self.gateway_dir / "openapi.json"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def portal_url(self) -> str:
        """The portal is on the gateway's origin (links in emails point here)."""
        return f"{self.gateway_url}/"

    @property
    def mail_url(self) -> str:
        return f"http://127.0.0.1:{self.mail_http_port}"

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def database(self, service: Service) -> str:
        return f"{self.database_prefix}{service.name}"

    def database_url(self, service: Service) -> str:
        base, _, query = self.database_server_dsn.partition("?")
        return f"{base.rpartition('/')[0]}/{self.database(service)}" + (f"?{query}" if query else "")

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def topics(self) -> list[str]:
        """Public and private event topics, and the consumers' dead-letter topics."""
        names = ["cases.events.v1", "identity.events.v1", "identity.mail.v1", "attachments.dlq", "notifications.dlq"]
        names.append("cases.dlq")  # the user-directory consumer's (identity.events.v1)
        names.append("notifications.mail.dlq")  # private: the mail topic's dead letters carry its confirmation links
        return [self.topic(n) for n in names]

    def service_env(self, service: Service) -> dict[str, str]:
        """The environment of one service process (on top of the caller's)."""
        prefix = service.env_prefix
        identity = self.service("identity")
        env = {
            f"{prefix}DATABASE_URL": self.database_url(service),
            f"{prefix}KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            f"{prefix}ENVIRONMENT": self.environment,
            f"{prefix}JWKS_URL": f"{identity.url}/api/identity/.well-known/jwks.json",
            f"{prefix}PUBLIC_URL": self.gateway_url,
            f"{prefix}HOST": "127.0.0.1",
            f"{prefix}PORT": str(service.port),
        }
        if service.name != "identity":  # identity checks revocation in its own database
            env[f"{prefix}REVOKED_TOKENS_URL"] = f"{identity.url}/internal/identity/revoked-tokens"
        if service.name == "identity":
            # Behind the gateway every client is 127.0.0.1; Envoy appends the real address, identity reads the last.
            env["IDENTITY_TRUST_FORWARDED_FOR"] = "true"
        if service.name == "notifications":
            env |= {"NOTIFICATIONS_SMTP_HOST": "127.0.0.1", "NOTIFICATIONS_SMTP_PORT": str(self.smtp_port),
                    "NOTIFICATIONS_INBOUND_SMTP_PORT": str(self.inbound_smtp_port),
                    "NOTIFICATIONS_CASES_INTERNAL_URL": self.service("cases").url,
                    "NOTIFICATIONS_ATTACHMENTS_INTERNAL_URL": self.service("attachments").url}  # fmt: skip
        if service.name == "attachments":
            env["ATTACHMENTS_STORAGE_DIR"] = str(self.state_dir / "attachments")
        if self.topic_prefix:
            env |= self._topic_env(service)
        if self.otlp_endpoint is not None:
            # Spans leave every 0.5 s (the SDK's default, 5 s, keeps a fresh trace incomplete in the viewer).
            env |= {"OTEL_EXPORTER_OTLP_ENDPOINT": self.otlp_endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                    "OTEL_BSP_SCHEDULE_DELAY": "500"}  # fmt: skip
        return env | dict(self.extra_env)

    def _topic_env(self, service: Service) -> dict[str, str]:
        cases, identity, mail = (self.topic(t) for t in ("cases.events.v1", "identity.events.v1", "identity.mail.v1"))
        by_service = {
            "identity": {"IDENTITY_EVENTS_TOPIC": identity, "IDENTITY_MAIL_TOPIC": mail},
            "cases": {
                "CASES_EVENTS_TOPIC": cases,
                "CASES_IDENTITY_TOPIC": identity,
                "CASES_CONSUMER_NAME": self.topic("cases"),
            },
            "attachments": {"ATTACHMENTS_CASES_TOPIC": cases, "ATTACHMENTS_CONSUMER_NAME": self.topic("attachments")},
            "notifications": {
                "NOTIFICATIONS_CASES_TOPIC": cases,
                "NOTIFICATIONS_IDENTITY_TOPIC": identity,
                "NOTIFICATIONS_IDENTITY_MAIL_TOPIC": mail,
                "NOTIFICATIONS_CONSUMER_NAME": self.topic("notifications"),
            },
        }
        return by_service.get(service.name, {})


def tracing() -> tuple[str, int | None]:
    """`make run`'s OTLP endpoint: OTEL_EXPORTER_OTLP_ENDPOINT (your own collector or Jaeger; no viewer is started),
    else the local trace viewer on CASEFOLD_TRACES_PORT (4318)."""
    external = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if external:
        return external, None
    port = int(os.environ.get("CASEFOLD_TRACES_PORT", 4318))
    return f"http://127.0.0.1:{port}", port


def layout() -> Layout:
    """`make run`'s layout: defaults, moved by CASEFOLD_* and <SVC>_PORT variables."""
    origins = os.environ.get("CASEFOLD_CORS_ORIGINS", "http://127.0.0.1:5173,http://localhost:5173")
    otlp_endpoint, trace_viewer_port = tracing()
    return Layout(
        state_dir=state_root(),
        database_server_dsn=database_server_dsn(),
        kafka_bootstrap=kafka_bootstrap(),
        services=tuple(Service(s.name, service_port(s), s.factory) for s in SERVICES),
        gateway_port=int(os.environ.get("CASEFOLD_GATEWAY_PORT", 8080)),
        gateway_admin_port=int(os.environ.get("CASEFOLD_GATEWAY_ADMIN_PORT", 9901)),
        smtp_port=int(os.environ.get("CASEFOLD_SMTP_PORT", 1025)),
        mail_http_port=int(os.environ.get("CASEFOLD_MAIL_UI_PORT", 8025)),
        inbound_smtp_port=int(os.environ.get("CASEFOLD_INBOUND_SMTP_PORT", 2525)),
        cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
        portal_dist=portal_source_dir() / "dist",
        portal_port=int(os.environ.get("CASEFOLD_PORTAL_PORT", 8005)),
        otlp_endpoint=otlp_endpoint,
        trace_viewer_port=trace_viewer_port,
    )
