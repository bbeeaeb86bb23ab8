"""`make chaos`: the whole system under faults, then proof that nothing was lost or duplicated.

    uv run python -m bench.chaos                      # 90 s or more of chaos (6 to 9 minutes in all)
    uv run python -m bench.chaos --duration 30 --clients 3 --seed 7

Private PostgreSQL and Kafka on free ports in a temporary folder, the local runner's System on free ports (inbox,
the four services, gateway; the relays and consumers run inside the API processes, as in `make run`). Several
clients open cases as fast as they can and comment on each one they opened, each command with an Idempotency-Key
and retried (same key) on a connection error, a 5xx or a 429, as a real client would. Meanwhile a chaos monkey, at
random moments, kill -9s each service in turn, the inbox (SMTP) and the Kafka broker (restarted after a pause), stops
SMTP for longer than the delivery loop's connection backoff (75 s, `--smtp-outage`), and restarts PostgreSQL; the
local runner restarts the crashed services with backoff, as Kubernetes would. Then, once everything is quiet, it checks:

- every accepted case was opened exactly once (one CaseOpened event in the cases database per accepted command, no
  case from a retried command twice), and every accepted comment was added exactly once (one CommentAdded);
- every one of those events reached Kafka (its event id on cases.events.v1; redeliveries are counted, since the
  relay is at-least-once and consumers deduplicate by event id);
- every case has exactly one acknowledgement email in the dev inbox, and every comment exactly one notice to the
  support address (one distinct Message-ID each; an identical resend after a crash between the SMTP server's "250"
  and the mark is counted apart, as the receiving end would drop it).

The figures go to bench/results/chaos.json and the console; the exit code is 1 when anything was lost or duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer

from bench.harness import RESULTS
from casefold_local import KafkaServer, PostgresServer
from casefold_local.errors import InfraError
from casefold_local.procs import free_port
from casefold_local.stack import Layout
from casefold_local.system import System

# The e2e helpers (the whole system on free ports, sign-up through the inbox) live with the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from e2e.e2e_steps import Account, log_in, new_account, sign_up_and_confirm
from e2e.e2e_system import private_layout

TARGETS = ("cases", "notifications", "identity", "attachments", "mailbox", "smtp-outage", "kafka", "postgres")
RETRYABLE_STATUS = {429, 500, 502, 503, 504}
SUPPORT_ADDRESS = "support-team@casefold.local"  # notifications' default, which the private layout keeps


@dataclass
class Figures:
    started_at: str
    duration_seconds: float
    clients: int
    seed: int
    commands_accepted: int = 0
    comments_accepted: int = 0
    commands_rejected: int = 0
    client_retries: int = 0
    kills: dict[str, int] = field(default_factory=dict)
    restarts_by_runner: dict[str, int] = field(default_factory=dict)
    cases_in_database: int = 0
    cases_opened_twice: int = 0
    comments_added_twice: int = 0
    lost_events_on_kafka: int = 0
    kafka_redeliveries: int = 0
    emails_missing: int = 0
    emails_duplicated: int = 0
    comment_notices_missing: int = 0
    identical_resends: int = 0
    drain_seconds: float = 0.0
    total_seconds: float = 0.0
    passed: bool = False
    notes: list[str] = field(default_factory=list)


def log(line: str) -> None:
    print(f"chaos {datetime.now(UTC):%H:%M:%S} {line}", flush=True)


class Infra:
    """PostgreSQL and Kafka of this run, in a folder of its own."""

    def __init__(self, root: Path) -> None:
        self.postgres = PostgresServer(root / "postgres", port=free_port())
        self.kafka = KafkaServer(root / "kafka", port=free_port(), controller_port=free_port(), log_level="WARN")

    def start(self) -> None:
        self.postgres.start()
        self.kafka.start()

    def stop(self) -> None:
        with contextlib.suppress(InfraError):
            self.kafka.stop()
        with contextlib.suppress(InfraError):
            self.postgres.stop()


class Supervision:
    """Calls the local runner's check_alive() twice a second in a thread, as `make run` does: it restarts crashes."""

    def __init__(self, system: System) -> None:
        self.system = system
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="supervision", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            with contextlib.suppress(InfraError):  # the gateway is not under test here
                self.system.check_alive()

    def __enter__(self) -> Supervision:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)


@dataclass
class Accepted:
    case_id: str
    number: str
    subject: str
    email: str
    comment_id: str | None = None  # the customer's comment on it, once accepted


async def open_and_comment(cases: str, client: Account, tag: str, done: asyncio.Event, figures: Figures
                           ) -> list[Accepted]:  # fmt: skip
    """Open cases until done, and comment on each one opened."""
    accepted: list[Accepted] = []
    async with httpx.AsyncClient(base_url=cases, timeout=10, headers=client.auth) as http:
        while not done.is_set():
            subject = f"chaos {tag} {uuid.uuid4().hex[:12]}"
            body = {"product": "casefold-cloud", "subject": subject, "description": "Opened under chaos.",
                    "severity": 3}  # fmt: skip
            opened = await _command(http, "/api/cases", body, figures)
            if opened is None:
                continue
            case = Accepted(opened["id"], opened["number"], subject, client.email)
            accepted.append(case)
            commented = await _command(http, f"/api/cases/{case.case_id}/comments", {"body": "Any news?"}, figures)
            if commented is not None:
                case.comment_id = commented["id"]
    return accepted


async def _command(http: httpx.AsyncClient, path: str, body: dict[str, Any], figures: Figures
                   ) -> dict[str, Any] | None:  # fmt: skip
    """POST a command with one Idempotency-Key, retried with it until answered (up to 180 s): its 201 body, or None
    (counted and noted as rejected)."""
    key = str(uuid.uuid4())
    give_up = time.monotonic() + 180
    response: httpx.Response | None = None
    while True:
        try:
            response = await http.post(path, json=body, headers={"Idempotency-Key": key})
            if response.status_code not in RETRYABLE_STATUS:
                break
        except httpx.HTTPError:
            pass
        figures.client_retries += 1
        if time.monotonic() > give_up:
            response = None
            break
        await asyncio.sleep(0.5)
    if response is not None and response.status_code == 201:
        answer: dict[str, Any] = response.json()
        return answer
    figures.commands_rejected += 1
    figures.notes.append(f"rejected {path}: {response.status_code if response else 'no answer'} "
                         f"{(response.text if response else '')[:200]}")  # fmt: skip
    return None


async def chaos_monkey(
    system: System, infra: Infra, until: float, rng: random.Random, figures: Figures, smtp_outage: float
) -> None:
    """Each target in turn (shuffled), at random moments, until the time is up and every target had its turn."""
    order = list(TARGETS)
    rng.shuffle(order)
    turn = 0
    await asyncio.sleep(rng.uniform(3, 6))
    while time.monotonic() < until or turn < len(order):
        target = order[turn % len(order)]
        turn += 1
        figures.kills[target] = figures.kills.get(target, 0) + 1
        if target == "kafka":
            log("kill -9 kafka")
            await asyncio.to_thread(infra.kafka.kill)
            await asyncio.sleep(rng.uniform(2, 6))
            log("starting kafka again")
            await asyncio.to_thread(infra.kafka.start)
        elif target == "smtp-outage":
            # Longer than the delivery loop's connection backoff cap (60 s): mail queues, none fails.
            log(f"SMTP outage: the inbox down for {smtp_outage:.0f}s")
            system.restarter.held.add("mailbox")
            if system.mailbox.proc is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(system.mailbox.proc.pid, signal.SIGKILL)
            await asyncio.sleep(smtp_outage)
            system.restarter.held.discard("mailbox")
            log("SMTP outage over")
        elif target == "postgres":
            log("restarting postgres")
            await asyncio.to_thread(infra.postgres.stop)
            await asyncio.sleep(rng.uniform(1, 3))
            await asyncio.to_thread(infra.postgres.start)
        else:
            process = system.mailbox if target == "mailbox" else system.processes[target]
            if process.proc is not None and process.proc.poll() is None:
                log(f"kill -9 {target} (pid {process.proc.pid})")
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.proc.pid, signal.SIGKILL)
        await asyncio.sleep(rng.uniform(4, 8))


async def case_events(layout: Layout, tag: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """From the cases database, this run's event ids: the CaseOpened ones by case id, the CommentAdded ones by
    comment id."""
    conn = await asyncpg.connect(layout.database_url(layout.service("cases")), timeout=10)
    try:
        rows = await conn.fetch(
            "SELECT stream_id, event_id FROM events WHERE event_type = 'CaseOpened' AND payload->>'subject' LIKE $1",
            f"chaos {tag} %",
        )
        comment_rows = await conn.fetch(
            "SELECT payload->>'comment_id' AS comment_id, event_id FROM events "
            "WHERE event_type = 'CommentAdded' AND stream_id = ANY($1::text[])",
            sorted({str(r["stream_id"]) for r in rows}),
        )
    finally:
        await conn.close()
    opened: dict[str, list[str]] = {}
    for row in rows:
        opened.setdefault(str(row["stream_id"]), []).append(str(row["event_id"]))
    commented: dict[str, list[str]] = {}
    for row in comment_rows:
        commented.setdefault(row["comment_id"], []).append(str(row["event_id"]))
    return opened, commented


async def kafka_event_ids(bootstrap: str, topic: str, expected: set[str], within: float) -> Counter[str]:
    """How often each event id is on the topic (read from the start, no group), until all expected ones are seen."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    seen: Counter[str] = Counter()
    try:
        deadline = time.monotonic() + within
        quiet_since = None
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            records = [r for rs in batch.values() for r in rs]
            for record in records:
                headers = dict(record.headers or ())
                if "event_id" in headers:
                    seen[headers["event_id"].decode()] += 1
            if expected <= set(seen):
                quiet_since = quiet_since or time.monotonic()
                if not records and time.monotonic() - quiet_since > 2:
                    break
    finally:
        await consumer.stop()
    return seen


async def acknowledgements(mail_url: str, accepted: list[Accepted], within: float) -> dict[str, list[str]]:
    """The Message-IDs of each case's acknowledgement emails, waiting up to within seconds for them all."""
    by_subject = {a.subject: a for a in accepted}
    found: dict[str, list[str]] = {}
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(base_url=mail_url, timeout=30) as inbox:
        while True:
            found = {}
            for address in sorted({a.email for a in accepted}):
                for message in (await inbox.get("/api/messages", params={"to": address})).json():
                    subject = message["subject"].split("] ", 1)[-1]
                    if subject in by_subject:
                        found.setdefault(by_subject[subject].case_id, []).append(message["message_id"])
            if len(found) >= len(accepted) or time.monotonic() > deadline:
                return found
            await asyncio.sleep(2)


async def comment_notices(mail_url: str, event_ids: set[str], within: float) -> Counter[str]:
    """How often each comment's notice to the support address is in the inbox (its Message-ID is <event id>.customer-
    comment@domain), by event id, waiting up to within seconds for them all."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(base_url=mail_url, timeout=30) as inbox:
        while True:
            found: Counter[str] = Counter()
            for message in (await inbox.get("/api/messages", params={"to": SUPPORT_ADDRESS})).json():
                event_id, _, kind = message["message_id"].strip("<>").split("@")[0].partition(".")
                if kind == "customer-comment" and event_id in event_ids:
                    found[event_id] += 1
            if set(found) >= event_ids or time.monotonic() > deadline:
                return found
            await asyncio.sleep(2)


async def run(args: argparse.Namespace) -> Figures:
    began = time.monotonic()
    rng = random.Random(args.seed)
    figures = Figures(datetime.now(UTC).isoformat(timespec="seconds"), args.duration, args.clients, args.seed)
    root = Path(tempfile.mkdtemp(prefix="casefold-chaos-"))
    infra = Infra(root)
    system: System | None = None
    try:
        log(f"starting PostgreSQL and Kafka in {root}")
        await asyncio.to_thread(infra.start)
        layout = private_layout(infra.postgres.dsn(), infra.kafka.bootstrap, root / "state", "chaos")
        system = System(layout, report=log)
        await asyncio.to_thread(system.start, 180)
        if not all(system.ready.values()):
            raise InfraError(f"not ready: {system.ready}; logs in {layout.logs_dir}")
        identity, cases = layout.service("identity").url, layout.service("cases").url
        tag = uuid.uuid4().hex[:8]
        clients = [new_account("chaos") for _ in range(args.clients)]
        async with (
            httpx.AsyncClient(base_url=identity, timeout=30) as http,
            httpx.AsyncClient(base_url=layout.mail_url, timeout=30) as inbox,
        ):
            for client in clients:
                await sign_up_and_confirm(http, inbox, client)
                await log_in(http, client)
        log(f"{len(clients)} customers signed up; {args.duration:.0f}s of case openings under chaos")
        with Supervision(system):
            until = time.monotonic() + args.duration
            done = asyncio.Event()
            monkey = asyncio.create_task(chaos_monkey(system, infra, until, rng, figures, args.smtp_outage))
            monkey.add_done_callback(lambda _: done.set())
            batches = await asyncio.gather(*(open_and_comment(cases, c, tag, done, figures) for c in clients))
            await monkey
            figures.duration_seconds = round(time.monotonic() - until + args.duration, 1)
            accepted = [a for batch in batches for a in batch]
            figures.commands_accepted = len(accepted)
            comments = {a.comment_id for a in accepted if a.comment_id is not None}
            figures.comments_accepted = len(comments)
            log(f"{len(accepted)} cases and {len(comments)} comments accepted; waiting for everything to settle")
            drain_began = time.monotonic()
            opened, commented = await case_events(layout, tag)
            figures.cases_in_database = len(opened)
            figures.cases_opened_twice = sum(1 for ids in opened.values() if len(ids) > 1)
            figures.comments_added_twice = sum(1 for ids in commented.values() if len(ids) > 1)
            unknown = {a.case_id for a in accepted} ^ set(opened)
            if unknown:
                figures.notes.append(f"accepted and stored cases differ: {sorted(unknown)[:5]}")
            unknown_comments = comments ^ set(commented)
            if unknown_comments:
                figures.notes.append(f"accepted and stored comments differ: {sorted(unknown_comments)[:5]}")
            comment_events = {i for ids in commented.values() for i in ids}
            expected = {i for ids in opened.values() for i in ids} | comment_events
            seen = await kafka_event_ids(layout.kafka_bootstrap, layout.topic("cases.events.v1"), expected, 300)
            figures.lost_events_on_kafka = len(expected - set(seen))
            figures.kafka_redeliveries = sum(seen[i] - 1 for i in expected if seen[i] > 1)
            mails = await acknowledgements(layout.mail_url, accepted, 300)
            figures.emails_missing = sum(1 for a in accepted if a.case_id not in mails)
            figures.emails_duplicated = sum(1 for ids in mails.values() if len(set(ids)) > 1)
            figures.identical_resends = sum(len(ids) - len(set(ids)) for ids in mails.values())
            notices = await comment_notices(layout.mail_url, comment_events, 300)
            figures.comment_notices_missing = len(comment_events - set(notices))
            # The same Message-ID twice is an identical resend (counted apart, as for the acknowledgements); a
            # comment's second notice would need a second event, which comments_added_twice counts.
            figures.identical_resends += sum(n - 1 for n in notices.values())
            figures.drain_seconds = round(time.monotonic() - drain_began, 1)
            figures.restarts_by_runner = dict(system.restarter.restarts)
        figures.passed = (
            figures.commands_accepted > 0
            and not unknown
            and figures.cases_opened_twice == 0
            and figures.lost_events_on_kafka == 0
            and figures.emails_missing == 0
            and figures.emails_duplicated == 0
            and not unknown_comments
            and figures.comments_added_twice == 0
            and figures.comment_notices_missing == 0
        )
    finally:
        figures.total_seconds = round(time.monotonic() - began, 1)
        if system is not None:
            await asyncio.to_thread(system.stop)
            if not figures.passed and args.keep_logs:
                kept = Path(args.keep_logs)
                shutil.copytree(system.layout.logs_dir, kept, dirs_exist_ok=True)
                log(f"logs kept in {kept}")
        await asyncio.to_thread(infra.stop)
        shutil.rmtree(root, ignore_errors=True)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=float, default=90.0,
                        help="seconds of chaos (more until every target had its turn)")  # fmt: skip
    parser.add_argument("--smtp-outage", type=float, default=75.0, help="seconds the SMTP inbox stays down once")
    parser.add_argument("--clients", type=int, default=4, help="concurrent customers opening cases")
    parser.add_argument("--seed", type=int, default=int(time.time()), help="the chaos monkey's random seed")
    parser.add_argument("--keep-logs", default=".casefold/chaos-logs", help="where the logs go when it fails")
    args = parser.parse_args(argv)
    figures = asyncio.run(run(args))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "chaos.json").write_text(json.dumps(asdict(figures), indent=2) + "\n")
    print(json.dumps({k: v for k, v in asdict(figures).items() if k != "notes"}, indent=2))
    for note in figures.notes[:20]:
        print(f"note: {note}")
    print(f"chaos: {'PASSED' if figures.passed else 'FAILED'}; figures in {RESULTS / 'chaos.json'}")
    return 0 if figures.passed else 1


if __name__ == "__main__":
    sys.exit(main())
