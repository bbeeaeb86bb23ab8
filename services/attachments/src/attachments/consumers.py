"""The case-events consumer: thin, it hands each envelope to the projection."""

from __future__ import annotations

import asyncpg

from attachments.app.projection import apply_case_event
from attachments.config import Settings
from casefold_events.consumer import ConsumerRunner


def case_events_consumer(settings: Settings, pool: asyncpg.Pool) -> ConsumerRunner:
    """ConsumerRunner "attachments" on the cases topic (dead letters on attachments.dlq)."""
    return ConsumerRunner(
        settings.consumer_name,
        settings.kafka_bootstrap_servers,
        [settings.cases_topic],
        pool,
        apply_case_event,
        client_options=settings.kafka_options(),
    )
