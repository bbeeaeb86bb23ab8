"""The composition root: the pool, the mailer, the SMTP sender and the worker's parts (one batching consumer over
the three topics, the delivery loop, and inbound mail when a port is configured), built once from Settings. The API app
(main.py), the worker and the command line (__main__.py) all take them from here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from casefold_events.migrate import migrate, package_migrations, shared_migrations
from casefold_platform.worker import Part, Parts
from notifications.adapters.attachments_client import AttachmentsClient
from notifications.adapters.cases_client import CasesClient
from notifications.adapters.smtp import SmtpConfig, SmtpSender
from notifications.adapters.smtp_listener import SmtpListener
from notifications.adapters.templates import Renderer
from notifications.app.inbound import InboundHandler, InboundSettings
from notifications.app.mailer import Mailer
from notifications.batch_consumer import BatchConsumer
from notifications.config import Settings
from notifications.consumers import make_handler
from notifications.delivery import DeliveryLoop, RetryPolicy
from notifications.domain.replies import ReplyTokens
from notifications.inbound_loop import InboundLoop


async def apply_migrations(settings: Settings) -> list[str]:
    """The shared tables (idempotency, consumer offsets), then the notifications tables; the names applied now."""
    return await migrate(settings.database_url, [shared_migrations(), package_migrations("notifications")])


def reply_tokens(settings: Settings) -> ReplyTokens:
    return ReplyTokens(settings.reply_token_key.get_secret_value().encode(), settings.reply_domain)


def build_mailer(settings: Settings) -> Mailer:
    return Mailer(
        renderer=Renderer(), from_address=settings.from_address, support_address=settings.support_address,
        domain=settings.message_id_domain, public_url=settings.public_url,
        replies=reply_tokens(settings) if settings.inbound_smtp_port else None,
    )  # fmt: skip


def build_sender(settings: Settings) -> SmtpSender:
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpSender(
        SmtpConfig(host=settings.smtp_host, port=settings.smtp_port, starttls=settings.smtp_starttls,
                   username=settings.smtp_username, password=password, timeout=settings.smtp_timeout_seconds,
                   ca_file=settings.smtp_ca_file)
    )  # fmt: skip


class Worker(Parts):
    """The delivery loop, the consumer that feeds it, then (when configured) the inbound loop and the SMTP listener
    that feeds that: started in this order, stopped in reverse."""

    def __init__(
        self,
        settings: Settings,
        pool: asyncpg.Pool,
        cases: CasesClient | None = None,
        attachments: AttachmentsClient | None = None,
    ) -> None:
        mailer = build_mailer(settings)
        self.consumer = BatchConsumer(settings.consumer_name, settings.kafka_bootstrap_servers, settings.topics, pool,
                                      make_handler(mailer), batch_size=settings.consumer_batch_size,
                                      dead_letter_topics=settings.dead_letter_topics,
                                      consumer_options={"fetch_max_wait_ms": settings.consumer_fetch_max_wait_ms},
                                      client_options=settings.kafka_options())  # fmt: skip
        policy = RetryPolicy(
            settings.retry_initial_seconds,
            settings.retry_max_seconds,
            settings.connect_retry_max_seconds,
            settings.waiting_sweep_seconds,
        )
        senders = [build_sender(settings) for _ in range(settings.smtp_connections)]
        self.delivery = DeliveryLoop(pool, senders, dsn=settings.database_url, policy=policy,
                                     batch_size=settings.delivery_batch_size,
                                     poll_seconds=settings.delivery_poll_seconds,
                                     keepalive_seconds=settings.smtp_keepalive_seconds)  # fmt: skip

        parts: list[Part] = [self.delivery, self.consumer]
        if settings.inbound_smtp_port:
            handler = InboundHandler(pool, InboundSettings(reply_tokens(settings), settings.support_mailbox,
                                                           settings.inbound_rate_per_hour))  # fmt: skip
            cases = cases or CasesClient(settings.cases_internal_url,
                                         settings.cases_internal_api_key.get_secret_value())  # fmt: skip
            attachments_key = settings.attachments_internal_api_key.get_secret_value()
            attachments = attachments or AttachmentsClient(settings.attachments_internal_url, attachments_key)
            self.inbound: InboundLoop | None = InboundLoop(
                pool, cases, attachments, mailer, dsn=settings.database_url,
                poll_seconds=settings.delivery_poll_seconds,
                retry_initial_seconds=settings.retry_initial_seconds, retry_max_seconds=settings.retry_max_seconds,
            )  # fmt: skip
            # The loop that turns replies into comments runs before the listener accepts any.
            parts += [
                self.inbound,
                SmtpListener(
                    handler,
                    settings.inbound_smtp_host,
                    settings.inbound_smtp_port,
                    max_bytes=settings.inbound_max_bytes,
                    hostname=settings.reply_domain,
                ),
            ]
        else:
            self.inbound = None
        super().__init__(*parts)


@asynccontextmanager
async def open_worker(settings: Settings, pool: asyncpg.Pool) -> AsyncIterator[Worker]:
    """The worker command's parts, over the pool the shared worker runner made."""
    yield Worker(settings, pool)
