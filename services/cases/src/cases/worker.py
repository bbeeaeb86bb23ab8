"""The worker process: the outbox relay (cases.events.v1) and the user-directory consumer, until SIGTERM."""

from __future__ import annotations

import asyncio
import signal

import structlog

from casefold_platform.metrics import serve_metrics
from cases import wiring
from cases.adapters.database import create_pool
from cases.config import Settings
from cases.consumers import identity_events_consumer

log = structlog.get_logger("cases.worker")


async def run_worker(settings: Settings) -> None:
    if settings.metrics_port:
        serve_metrics(settings.metrics_port)
    relay = wiring.outbox_relay(settings)
    pool = await create_pool(settings)
    consumer = identity_events_consumer(settings, pool)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await relay.start()
    await consumer.start()
    log.info("worker_started", topic=settings.events_topic, consumes=settings.identity_topic)
    try:
        await stop.wait()
    finally:
        await consumer.stop()
        await relay.stop()
        await pool.close()
        log.info("worker_stopped")
