"""Notifications benchmark: event published -> email accepted by a real SMTP server (aiosmtpd).

    uv run python -m bench notifications [--quick]
    PYTHONPATH=. uv run python services/notifications/bench/bench_notifications.py [--quick] [--connections N]

Measures, beside a same-run baseline (a raw aiosmtplib send of a like message to the same server):
- latency p50/p99 of CaseOpened published to Kafka -> acknowledgement accepted by SMTP, at a steady rate, beside a
  raw aiosmtplib.send (connect, send, quit) at the same rate, and (for context) one durable INSERT+COMMIT on the same
  PostgreSQL at the same rate;
- the highest sustained rate: a burst of events drained end to end (emails accepted per second), beside raw sends
  back to back over the same number of SMTP connections at once as the delivery loop uses (`--connections`,
  default NOTIFICATIONS_SMTP_CONNECTIONS' default). Target: at least 0.8x.
Rounds alternate ours / baseline (five in a full run); each figure is the median of its rounds.
The consumer and delivery loop run in this process, the SMTP server in its own, on the servers of bench.harness.
Results: bench/results/notifications.json.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.harness import Infra, Result, median, percentile, print_table, servers, write_results
from casefold_events.contracts import CaseOpened, UserRegistered
from casefold_events.envelope import Envelope, Metadata, encode, kafka_headers
from casefold_local.databases import create_database, drop_database
from casefold_local.procs import free_port
from notifications.bootstrap import Worker, apply_migrations
from notifications.config import Settings

ROOT = Path(__file__).resolve().parents[3]


# The SMTP server runs in its own process (as a real one would): it prints "<Message-ID> <monotonic time>" per
# accepted message. CLOCK_MONOTONIC is system-wide on Linux, so its stamps compare with ours.
SERVER = r"""
import sys, time
from aiosmtpd.controller import Controller

class Stamp:
    async def handle_DATA(self, server, session, envelope):
        for line in envelope.content.split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                sys.stdout.write(line.split(b":", 1)[1].strip().decode() + " " + repr(time.monotonic()) + "\n")
                sys.stdout.flush()
                break
            if not line:
                break
        return "250 OK"

controller = Controller(Stamp(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
sys.stdout.write("ready\n")
sys.stdout.flush()
sys.stdin.read()
controller.stop()
"""


class SmtpServer:
    """aiosmtpd in a subprocess; accepted[message_id] = the monotonic time the server accepted it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.accepted: dict[str, float] = {}
        self._pending: set[str] = set()  # what wait_for waits for, and not accepted yet
        self._all_in = asyncio.Event()
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", SERVER, str(self.port), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert self._proc.stdout is not None
        assert (await self._proc.stdout.readline()).strip() == b"ready"
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self._proc is not None
        assert self._proc.stdout is not None
        async for line in self._proc.stdout:
            message_id, _, stamp = line.decode().strip().rpartition(" ")
            self.accepted[message_id] = float(stamp)
            if message_id in self._pending:
                self._pending.discard(message_id)
                if not self._pending:
                    self._all_in.set()

    async def wait_for(self, ids: list[str], seconds: float) -> None:
        """Until every one of ids was accepted. Told by the reader, not polled: a poll over thousands of ids would
        spend the CPU of this process, which the consumer and the delivery loop share."""
        self._pending = {i for i in ids if i not in self.accepted}
        self._all_in.clear()
        if not self._pending:
            return
        try:
            await asyncio.wait_for(self._all_in.wait(), seconds)
        except TimeoutError:
            raise TimeoutError(f"{len(self._pending)} of {len(ids)} emails not accepted within {seconds} s") from None

    async def stop(self) -> None:
        if self._proc is not None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            await self._proc.wait()
        if self._reader is not None:
            await self._reader


async def _topics(bootstrap: str) -> list[str]:
    names = [f"bench.notifications.{kind}.{uuid.uuid4().hex[:8]}" for kind in ("cases", "identity", "mail")]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(n, num_partitions=1, replication_factor=1) for n in names])
    finally:
        await admin.close()
    return names


def _envelope(event: Any, stream: uuid.UUID, stream_type: str) -> Envelope:
    return Envelope.wrap(event, stream_id=str(stream), stream_type=stream_type, stream_version=1, metadata=Metadata())


def _case(owner: uuid.UUID, number: int) -> Envelope:
    case_id = uuid.uuid4()
    event = CaseOpened(case_id=case_id, number=number, product_id="casefold-cloud", product_name="Casefold Cloud",
                       subject="Benchmark case", description="Steady load.", severity=3, prioritised=False,
                       opened_by=owner, opened_by_role="customer")  # fmt: skip
    return _envelope(event, case_id, "case")


class Bench:
    def __init__(self, producer: AIOKafkaProducer, cases_topic: str, owner: uuid.UUID, port: int, stamp: SmtpServer):
        self.producer, self.topic, self.owner, self.port, self.stamp = producer, cases_topic, owner, port, stamp
        self.number = 0

    async def _publish(self) -> tuple[str, float]:
        self.number += 1
        envelope = _case(self.owner, self.number)
        began = time.monotonic()
        await self.producer.send(self.topic, encode(envelope), key=envelope.stream_id.encode(),
                                 headers=kafka_headers(envelope))  # fmt: skip
        return f"<{envelope.event_id}.ack@casefold.local>", began

    async def steady_latency(self, rate: float, count: int) -> list[float]:
        """Milliseconds from publish to SMTP acceptance, one event every 1/rate seconds."""
        sent: list[tuple[str, float]] = []
        start = time.monotonic()
        for i in range(count):
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            sent.append(await self._publish())
        await self.producer.flush()
        await self.stamp.wait_for([m for m, _ in sent], 120)
        return [(self.stamp.accepted[m] - t) * 1000 for m, t in sent]

    async def burst_rate(self, count: int) -> float:
        """Emails accepted per second when count events are published at once and drained end to end."""
        start = time.monotonic()
        sent = [await self._publish() for _ in range(count)]
        await self.producer.flush()
        await self.stamp.wait_for([m for m, _ in sent], 300)
        return count / (max(self.stamp.accepted[m] for m, _ in sent) - start)

    def _raw_message(self) -> EmailMessage:
        message = EmailMessage()
        message["From"] = "support@casefold.local"
        message["To"] = "customer@bench.test"
        message["Subject"] = "[Case 00000001] Benchmark case"
        message["Message-ID"] = f"<{uuid.uuid4()}.raw@casefold.local>"
        message.set_content("Thank you for contacting Casefold Support.")
        message.add_alternative("<p>Thank you for contacting Casefold Support.</p>", subtype="html")
        return message

    async def commit_latency(self, pool: asyncpg.Pool, rate: float, count: int) -> list[float]:
        """Context, not a baseline: one durable INSERT + COMMIT on the same PostgreSQL at the same steady rate (every
        event's handling ends in one; on a shared disk its fsync is most of the tail)."""
        async with pool.acquire() as conn:
            await conn.execute("CREATE TABLE IF NOT EXISTS bench_commits (id bigserial PRIMARY KEY, at timestamptz)")
            samples: list[float] = []
            start = time.monotonic()
            for i in range(count):
                await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
                began = time.monotonic()
                async with conn.transaction():
                    await conn.execute("INSERT INTO bench_commits (at) VALUES (now())")
                samples.append((time.monotonic() - began) * 1000)
        return samples

    async def raw_latency(self, rate: float, count: int) -> list[float]:
        """Baseline: one aiosmtplib.send (connect, send, quit) per message at the same steady rate."""
        samples: list[float] = []
        start = time.monotonic()
        for i in range(count):
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            began = time.monotonic()
            await aiosmtplib.send(self._raw_message(), hostname="127.0.0.1", port=self.port)
            samples.append((time.monotonic() - began) * 1000)
        return samples

    async def raw_rate(self, count: int, connections: int, *, precomposed: bool = False) -> float:
        """Baseline: count messages over `connections` SMTP connections at once, each sending back to back (the
        same number of connections as the delivery loop has). Each message built with the standard library and
        sent with send_message, or (precomposed) its bytes made before the clock starts: the SMTP exchange alone."""
        clients = [aiosmtplib.SMTP(hostname="127.0.0.1", port=self.port) for _ in range(connections)]
        await asyncio.gather(*(c.connect() for c in clients))
        ready = [bytes(self._raw_message()) for _ in range(count)] if precomposed else []

        async def share(client: aiosmtplib.SMTP, n: int) -> None:
            for _ in range(n):
                if precomposed:
                    await client.sendmail("support@casefold.local", ["customer@bench.test"], ready.pop())
                else:
                    await client.send_message(self._raw_message())

        start = time.monotonic()
        await asyncio.gather(*(share(c, count // connections + (i < count % connections))
                               for i, c in enumerate(clients)))  # fmt: skip
        elapsed = time.monotonic() - start
        await asyncio.gather(*(c.quit() for c in clients))
        return count / elapsed


async def run(infra: Infra, quick: bool, connections: int) -> list[Result]:
    rate, count, burst, rounds = (20.0, 100, 300, 1) if quick else (50.0, 300, 2000, 5)
    dsn = await create_database(infra.postgres_dsn, "bench_notifications")
    stamp = SmtpServer()
    await stamp.start()
    port = stamp.port
    cases, identity, mail = await _topics(infra.kafka_bootstrap)
    settings = Settings(environment="test", database_url=dsn, kafka_bootstrap_servers=infra.kafka_bootstrap,
                        consumer_name=f"bench-notifications-{uuid.uuid4().hex[:6]}", cases_topic=cases,
                        identity_topic=identity, identity_mail_topic=mail, smtp_port=port, log_level="WARNING",
                        smtp_connections=connections, pool_max_size=10)  # fmt: skip
    await apply_migrations(settings)
    pool = await asyncpg.create_pool(dsn, min_size=2, max_size=10)
    worker = Worker(settings, pool)
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, acks="all", linger_ms=0)
    await producer.start()
    await worker.start()
    try:
        owner = uuid.uuid4()
        user = UserRegistered(user_id=owner, email="customer@bench.test", display_name="Bench", terms_version="1")
        await producer.send_and_wait(identity, encode(_envelope(user, owner, "user")), key=owner.bytes)
        bench = Bench(producer, cases, owner, port, stamp)
        await bench.steady_latency(rate, 20)  # warm-up: group join, pools, templates
        ours: list[list[float]] = []
        base: list[list[float]] = []
        commits: list[list[float]] = []
        for _ in range(rounds):  # interleaved with the baseline: this machine is shared and noisy
            ours.append(await bench.steady_latency(rate, count))
            base.append(await bench.raw_latency(rate, count))
            commits.append(await bench.commit_latency(pool, rate, count))
        rates, raw_rates, bare_rates = [], [], []
        for _ in range(rounds):  # alternating too; the figure is the median of the rounds
            rates.append(await bench.burst_rate(burst))
            raw_rates.append(await bench.raw_rate(burst, connections))
            bare_rates.append(await bench.raw_rate(burst, connections, precomposed=True))
    finally:
        await worker.stop()
        await producer.stop()
        await pool.close()
        await stamp.stop()
        await drop_database(infra.postgres_dsn, dsn)
    steady = f"@ {rate:.0f} events/s"
    results = []
    for p in (50, 99):
        a, b = [percentile(x, p) for x in ours], [percentile(x, p) for x in base]
        c = [percentile(x, p) for x in commits]
        results.append(Result(f"event -> SMTP accepted p{p} {steady}", "ms", median(a), median(b),
                              f"raw aiosmtplib.send p{p}", "informational", a, b, higher_is_better=False))  # fmt: skip
        results.append(Result(f"event -> SMTP accepted p{p} {steady}", "ms", median(a), median(c),
                              f"one INSERT+COMMIT p{p}, same database", "informational", a, c,
                              higher_is_better=False))  # fmt: skip
    results.append(Result(f"sustained rate (burst of {burst}, {connections} SMTP connections)", "emails/s",
                          median(rates), median(raw_rates), f"raw sends on {connections} connections at once",
                          ">= 0.8x baseline", rates, raw_rates))  # fmt: skip
    results.append(Result(f"sustained rate (burst of {burst}, {connections} SMTP connections)", "emails/s",
                          median(rates), median(bare_rates), f"raw sendmail of ready bytes, {connections} connections",
                          "informational", rates, bare_rates))  # fmt: skip
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--connections",
        type=int,
        default=Settings.model_fields["smtp_connections"].default,
        help="SMTP connections of the delivery loop, and of the raw baseline (default: the setting's)",
    )
    args = parser.parse_args()
    with servers() as infra:
        results = asyncio.run(run(infra, args.quick, args.connections))
    print_table("notifications: event -> email accepted by SMTP (aiosmtpd in its own process)", results)
    path = write_results("notifications", results)
    print(f"\nwritten to {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
