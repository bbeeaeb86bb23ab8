"""Wiring of the worker: one ConsumerRunner over the three topics, and the delivery loop."""

from __future__ import annotations

import asyncpg

from casefold_events.consumer import ConsumerRunner
from casefold_platform.worker import Parts
from notifications.adapters.smtp import SmtpConfig, SmtpSender
from notifications.adapters.templates import Renderer
from notifications.app.mailer import Mailer
from notifications.config import Settings
from notifications.consumers import make_handler
from notifications.delivery import DeliveryLoop, RetryPolicy


def build_mailer(settings: Settings) -> Mailer:
    return Mailer(
        renderer=Renderer(), from_address=settings.from_address, support_address=settings.support_address,
        domain=settings.message_id_domain, public_url=settings.public_url,
    )  # fmt: skip


def build_sender(settings: Settings) -> SmtpSender:
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpSender(
        SmtpConfig(host=settings.smtp_host, port=settings.smtp_port, starttls=settings.smtp_starttls,
                   username=settings.smtp_username, password=password, timeout=settings.smtp_timeout_seconds,
                   ca_file=settings.smtp_ca_file)
    )  # fmt: skip


class Worker(Parts):
    """The delivery loop and the consumer that feeds it: started in that order, stopped in reverse."""

    def __init__(self, settings: Settings, pool: asyncpg.Pool) -> None:
        self.consumer = ConsumerRunner(settings.consumer_name, settings.kafka_bootstrap_servers, settings.topics, pool,
                                       make_handler(build_mailer(settings)),
                                       dead_letter_topics=settings.dead_letter_topics,
                                       client_options=settings.kafka_options())  # fmt: skip
        policy = RetryPolicy(settings.delivery_max_attempts, settings.retry_initial_seconds, settings.retry_max_seconds)
        self.delivery = DeliveryLoop(pool, build_sender(settings), dsn=settings.database_url, policy=policy,
                                     batch_size=settings.delivery_batch_size,
                                     poll_seconds=settings.delivery_poll_seconds,
                                     keepalive_seconds=settings.smtp_keepalive_seconds)  # fmt: skip
        super().__init__(self.delivery, self.consumer)
