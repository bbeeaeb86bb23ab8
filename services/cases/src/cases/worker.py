"""The worker process: the outbox relay (cases.events.v1), until SIGTERM."""

from __future__ import annotations

import asyncio
import signal

import structlog

from casefold_platform.metrics import serve_metrics
from cases import wiring
from cases.config import Settings

log = structlog.get_logger("cases.worker")


async def run_worker(settings: Settings) -> None:
    if settings.metrics_port:
        serve_metrics(settings.metrics_port)
    relay = wiring.outbox_relay(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await relay.start()
    log.info("worker_started", topic=settings.events_topic)
    try:
        await stop.wait()
    finally:
        await relay.stop()
        log.info("worker_stopped")
