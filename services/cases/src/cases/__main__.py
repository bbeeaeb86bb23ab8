"""`python -m cases api|worker|migrate|rebuild-read-model|reset-user-directory|dead-letters`: the HTTP API, the
background worker (outbox relay, user-directory consumer), the migrations, the two rebuilds, and the dead letters of
the user-directory consumer."""

from __future__ import annotations

import argparse
import sys

import structlog

from casefold_events.dead_letters import ConsumerTopics
from casefold_platform.cli import Command, run_cli
from casefold_platform.commands import api_command, dead_letters_command, migrate_command, worker_command
from cases.adapters.rebuild import rebuild_read_model
from cases.bootstrap import apply_migrations, open_service, open_worker
from cases.config import Settings
from cases.consumers import reset_user_directory
from cases.main import create_app

log = structlog.get_logger("cases")


async def rebuild(settings: Settings, _: argparse.Namespace) -> None:
    async with open_service(settings) as service:
        log.info("read_model_rebuilt", events=await rebuild_read_model(service.pool, settings.sla_policy()))


async def reset_directory(settings: Settings, _: argparse.Namespace) -> None:
    async with open_service(settings) as service:
        partitions = await reset_user_directory(settings, service.pool)
    log.info("user_directory_reset", group=settings.consumer_name, topic=settings.identity_topic, partitions=partitions)


def consumers(settings: Settings) -> list[ConsumerTopics]:
    """The user-directory consumer (consumers.identity_events_consumer), for `dead-letters`."""
    return [ConsumerTopics.of(settings.consumer_name, [settings.identity_topic])]


COMMANDS: list[Command[Settings]] = [
    api_command(create_app, "serve the HTTP API (cases, comments, attachments, probes, /metrics)"),
    worker_command(
        apply_migrations,
        open_worker,
        "publish the outbox (cases.events.v1) and project identity's events into the user directory, until SIGTERM",
    ),
    migrate_command(apply_migrations),
    Command(
        "rebuild-read-model",
        "replay every event into shadow tables and swap them in, while the API keeps serving",
        rebuild,
    ),
    Command(
        "reset-user-directory",
        "rewind the directory consumer to the start of identity.events.v1 and empty the directory (workers stopped)",
        reset_directory,
    ),
    dead_letters_command(consumers),
]


def main(argv: list[str] | None = None) -> int:
    return run_cli("cases", __doc__ or "", COMMANDS, Settings, argv)


if __name__ == "__main__":
    sys.exit(main())
