"""`python -m notifications api|worker|migrate|redrive|backfill-disabled-users|dead-letters`: the HTTP API, the
background worker, the migrations, the re-drive of failed EMAILS (`redrive`), the one-off replay of who is disabled,
and the dead letters of the event consumer (`dead-letters list|redrive|redrive-topic`: events, not emails)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from uuid import UUID

from casefold_events import pools
from casefold_events.dead_letters import ConsumerTopics
from casefold_platform.cli import Command, run_cli
from casefold_platform.commands import api_command, dead_letters_command, migrate_command, worker_command
from notifications.adapters import outbox
from notifications.backfill import backfill_disabled_users
from notifications.bootstrap import apply_migrations, open_worker
from notifications.config import Settings
from notifications.main import create_app


def _redrive_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--id", dest="ids", type=UUID, action="append", default=[], help="an email id (repeatable)")
    parser.add_argument("--since", type=datetime.fromisoformat, help="only emails created at or after this time")


async def redrive(settings: Settings, args: argparse.Namespace) -> None:
    conn = await pools.connect(settings.database_url)
    try:
        result = await outbox.redrive(conn, args.ids, args.since)
    finally:
        await conn.close()
    print(f"queued again: {len(result.queued)}")
    for email_id in result.queued:
        print(f"  {email_id}")
    if result.dead_links:
        print(f"left failed: {result.dead_links} account email(s) whose single-use link is gone; "
              "the user asks for a new one (resend / forgot password)")  # fmt: skip


async def backfill(settings: Settings, args: argparse.Namespace) -> None:
    pool = await pools.create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        result = await backfill_disabled_users(settings, pool)
    finally:
        await pool.close()
    print(f"read {settings.identity_topic} ({result.partitions} partitions): {result.events} UserDisabled / "
          f"UserEnabled, {result.changed} applied")  # fmt: skip


def consumers(settings: Settings) -> list[ConsumerTopics]:
    """The event consumer (bootstrap's BatchConsumer), for `dead-letters`."""
    return [ConsumerTopics.of(settings.consumer_name, settings.topics, settings.dead_letter_topics)]


COMMANDS: list[Command[Settings]] = [
    api_command(create_app, "serve the HTTP API (activity history, probes, /metrics)"),
    worker_command(
        apply_migrations,
        open_worker,
        "consume events into emails, deliver them over SMTP, receive replies by email, until SIGTERM",
    ),
    migrate_command(apply_migrations),
    Command(
        "redrive",
        "queue failed EMAILS again (all of them, --id ones, or --since a time); for events see dead-letters",
        redrive,
        _redrive_arguments,
    ),
    Command(
        "backfill-disabled-users",
        "once after migration 0005: read identity.events.v1 from its start and mark who is disabled (workers may run)",
        backfill,
    ),
    dead_letters_command(consumers),
]


def main(argv: list[str] | None = None) -> int:
    return run_cli("notifications", __doc__ or "", COMMANDS, Settings, argv)


if __name__ == "__main__":
    sys.exit(main())
