"""`python -m attachments api|worker|migrate|dead-letters`: the HTTP API, the background worker, the migrations, and
the dead letters of the case-events consumer."""

from __future__ import annotations

import sys

from attachments.bootstrap import apply_migrations, open_worker
from attachments.config import Settings
from attachments.main import create_app
from casefold_events.dead_letters import ConsumerTopics
from casefold_platform.cli import Command, run_cli
from casefold_platform.commands import api_command, dead_letters_command, migrate_command, worker_command


def consumers(settings: Settings) -> list[ConsumerTopics]:
    """The case-events consumer (consumers.case_events_consumer), for `dead-letters`."""
    return [ConsumerTopics.of(settings.consumer_name, [settings.cases_topic])]


COMMANDS: list[Command[Settings]] = [
    api_command(create_app, "serve the HTTP API (uploads, downloads, probes, /metrics)"),
    worker_command(apply_migrations, open_worker, "consume case events and collect unlinked uploads, until SIGTERM"),
    migrate_command(apply_migrations),
    dead_letters_command(consumers),
]


def main(argv: list[str] | None = None) -> int:
    return run_cli("attachments", __doc__ or "", COMMANDS, Settings, argv)


if __name__ == "__main__":
    sys.exit(main())
