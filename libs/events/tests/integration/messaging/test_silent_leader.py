"""A relay leader whose database connection goes silent (a proxy that stops forwarding, as a half-open connection
or a partition would) loses its lock within the timeout budget; the standby takes over; nothing lost or duplicated."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer
from events_builders import META, comment

from casefold_events.envelope import RecordedEvent, decode
from casefold_events.relay import OutboxRelay
from casefold_events.store import NO_STREAM, EventStore

pytestmark = pytest.mark.integration

COMMAND_TIMEOUT = 2.0
LOCK_IDLE_TIMEOUT = 3.0
TAKEOVER_BUDGET = LOCK_IDLE_TIMEOUT + COMMAND_TIMEOUT + 5.0  # + the standby's poll and a busy CI machine


class SilenceableProxy:
    """Forwards TCP to a target until silence(): then it keeps every socket open and forwards nothing."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.flowing = asyncio.Event()
        self.flowing.set()
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._pumps: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    def silence(self) -> None:
        self.flowing.clear()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(*self.target)
        self._writers += [client_writer, server_writer]
        for reader, writer in ((client_reader, server_writer), (server_reader, client_writer)):
            pump = asyncio.create_task(self._pump(reader, writer))
            self._pumps.add(pump)
            pump.add_done_callback(self._pumps.discard)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                await self.flowing.wait()  # silent: hold the bytes, never answer, never close
                writer.write(data)
                await writer.drain()
        writer.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for pump in list(self._pumps):
            pump.cancel()
        for writer in self._writers:
            writer.transport.abort()


def _through(dsn: str, port: int) -> str:
    parts = urlsplit(dsn)
    netloc = f"{parts.username}@127.0.0.1:{port}" if parts.username else f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


async def _append(pool: asyncpg.Pool, store: EventStore, events: int) -> list[RecordedEvent]:
    stream = str(uuid.uuid4())
    written: list[RecordedEvent] = []
    for v in range(events):
        async with pool.acquire() as conn, conn.transaction():
            written += await store.append(conn, stream, "thread", [comment()], expected_version=v or NO_STREAM,
                                          metadata=META)  # fmt: skip
    return written


async def _wait_published(pool: asyncpg.Pool, seconds: float) -> None:
    async with asyncio.timeout(seconds):
        while await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"):
            await asyncio.sleep(0.05)


async def _event_ids_on(bootstrap: str, topic: str, at_least: int) -> list[uuid.UUID]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    ids: list[uuid.UUID] = []
    try:
        async with asyncio.timeout(30):
            while len(ids) < at_least:
                batch = await consumer.getmany(timeout_ms=300)
                ids += [decode(r.value).event_id for rs in batch.values() for r in rs if r.value is not None]
        batch = await consumer.getmany(timeout_ms=1000)  # and any duplicate behind them
        ids += [decode(r.value).event_id for rs in batch.values() for r in rs if r.value is not None]
    finally:
        await consumer.stop()
    return ids


async def test_the_standby_takes_over_when_the_leaders_connection_goes_silent(
    pool: asyncpg.Pool, database: str, kafka_bootstrap: str, kafka_topic: str
) -> None:
    await pool.execute("UPDATE outbox SET published_at = now() WHERE published_at IS NULL")
    store = EventStore(topics={"thread": kafka_topic})
    parts = urlsplit(database)
    proxy = SilenceableProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    proxied = _through(database, await proxy.start())
    leader = OutboxRelay(proxied, kafka_bootstrap, "test", poll_interval=0.2, standby_poll=0.1,
                         command_timeout=COMMAND_TIMEOUT, lock_idle_timeout=LOCK_IDLE_TIMEOUT)  # fmt: skip
    standby = OutboxRelay(database, kafka_bootstrap, "test", poll_interval=0.2, standby_poll=0.2,
                          command_timeout=COMMAND_TIMEOUT, lock_idle_timeout=LOCK_IDLE_TIMEOUT)  # fmt: skip
    await leader.start()
    try:
        async with asyncio.timeout(10):
            while not leader.is_leader:
                await asyncio.sleep(0.05)
        before = await _append(pool, store, 3)
        await _wait_published(pool, 30)
        await standby.start()
        await asyncio.sleep(1.0)
        assert not standby.is_leader  # the leader's lock holds while its connection talks

        proxy.silence()
        silenced = time.monotonic()
        after = await _append(pool, store, 4)
        async with asyncio.timeout(TAKEOVER_BUDGET):
            while not standby.is_leader:
                await asyncio.sleep(0.05)
        took_over_after = time.monotonic() - silenced
        await _wait_published(pool, 30)
        ids = await _event_ids_on(kafka_bootstrap, kafka_topic, len(before) + len(after))
    finally:
        await proxy.close()  # first: the old leader's reconnects then fail at once instead of hanging
        await leader.stop()
        await standby.stop()

    assert took_over_after < TAKEOVER_BUDGET
    assert sorted(ids) == sorted(e.event_id for e in before + after)  # nothing lost, nothing twice
