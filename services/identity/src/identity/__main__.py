"""`python -m identity api|worker|migrate|create-admin|rebuild-read-model|purge-unverified|rotate-signing-key|
retire-signing-keys|dead-letters`: the HTTP API, the background worker (outbox relay, housekeeping), the migrations,
and the operator's commands (identity runs no consumer today: `dead-letters` finds none, the table is shared)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from casefold_events.dead_letters import ConsumerTopics
from casefold_platform.cli import Command, run_cli
from casefold_platform.commands import api_command, dead_letters_command, migrate_command, worker_command
from casefold_platform.problems import DomainError
from identity.adapters import signing_keys, users
from identity.app import accounts
from identity.app.common import Identity
from identity.app.expiry import purge_unverified
from identity.app.rebuild import rebuild_users
from identity.bootstrap import apply_migrations, ensure_signing_key, open_service, open_worker
from identity.config import Settings
from identity.domain.emails import normalise_email
from identity.main import create_app

REFUSED = 2


async def create_admin(settings: Settings, args: argparse.Namespace) -> int:
    async with open_service(settings) as service:
        await ensure_signing_key(settings, service.pool)
        ctx = service.identity
        try:
            existing = await users.by_email(service.pool, normalise_email(args.email))
            if existing is not None:
                return await _promote_existing(ctx, existing, args.promote_existing)
            password = os.environ.get("IDENTITY_ADMIN_PASSWORD") or getpass.getpass("Password for the admin: ")
            row = await accounts.register(
                ctx, email=args.email, password=password, display_name=args.display_name, accept_terms=True,
                client_address="create-admin", role="admin", address_vouched=True,
            )  # fmt: skip
        except DomainError as exc:
            print(f"refused: {exc.detail} {exc.extensions.get('errors', '')}".rstrip(), file=sys.stderr)
            return REFUSED
    print(f"created admin {row.id} <{row.email}> with the given password; its address counts as confirmed")
    return 0


def _create_admin_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--email", required=True)
    parser.add_argument("--display-name", required=True)
    parser.add_argument(
        "--promote-existing", action="store_true",
        help="when a verified account already holds the email, make it an admin (it keeps its password)",
    )  # fmt: skip


async def _promote_existing(ctx: Identity, existing: users.UserRow, confirmed: bool) -> int:
    """An account already holds the address: promote it only when verified and the operator said so."""
    if not existing.email_verified:
        print(
            f"refused: the account {existing.id} holds this address but has never confirmed it (anyone can sign "
            "up with any address), so it is not promoted; use another address, or have its owner confirm it and "
            "run again with --promote-existing",
            file=sys.stderr,
        )
        return REFUSED
    if not confirmed:
        print(
            f"refused: the verified account {existing.id} ({existing.role}) already holds this address; pass "
            "--promote-existing to make it an admin (it keeps its own password)",
            file=sys.stderr,
        )
        return REFUSED
    row = await accounts.promote_to_admin(ctx, existing.email)
    print(f"promoted the existing account {row.id} <{row.email}> to admin")
    if os.environ.get("IDENTITY_ADMIN_PASSWORD"):
        print("IDENTITY_ADMIN_PASSWORD was NOT used: the account keeps its own password", file=sys.stderr)
    return 0


async def rebuild(settings: Settings, _: argparse.Namespace) -> None:
    async with open_service(settings) as service:
        count = await rebuild_users(service.identity)
    print(f"rebuilt {count} users from the event store")


async def purge(settings: Settings, _: argparse.Namespace) -> None:
    async with open_service(settings) as service:
        count = await purge_unverified(service.identity)
    print(f"expired {count} unverified accounts older than {settings.unverified_ttl_seconds} s")


async def rotate(settings: Settings, _: argparse.Namespace) -> None:
    async with open_service(settings) as service:
        key = await signing_keys.add_key(service.pool)
    print(f"new signing key {key.kid}; earlier keys stay published until retired")


async def retire(settings: Settings, args: argparse.Namespace) -> int:
    older_than = signing_keys.utc_interval(args.older_than)
    if older_than.total_seconds() < settings.access_token_seconds:
        print("refused: keys younger than the access-token lifetime may still have live tokens", file=sys.stderr)
        return REFUSED
    async with open_service(settings) as service:
        for kid in await signing_keys.retire_keys(service.pool, older_than):
            print(f"retired {kid}")
    return 0


def _older_than(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--older-than", required=True, help="an age such as 1d, 12h or 30m")


def consumers(_: Settings) -> list[ConsumerTopics]:
    """identity runs no consumer yet, for `dead-letters` (its database has the shared table all the same)."""
    return []


COMMANDS: list[Command[Settings]] = [
    api_command(create_app, "serve the HTTP API (accounts, sessions, tokens, JWKS, user administration, /metrics)"),
    worker_command(
        apply_migrations,
        open_worker,
        "publish the outbox (identity.events.v1, identity.mail.v1) and run housekeeping (old rate-limit rows, "
        "unverified accounts past their TTL), until SIGTERM",
    ),
    migrate_command(apply_migrations),
    Command(
        "create-admin",
        "create the first admin (password from IDENTITY_ADMIN_PASSWORD, else asked)",
        create_admin,
        _create_admin_arguments,
    ),
    Command("rebuild-read-model", "re-project every user from the event store (the API keeps serving)", rebuild),
    Command("purge-unverified", "expire unverified accounts older than IDENTITY_UNVERIFIED_TTL_SECONDS now", purge),
    Command("rotate-signing-key", "add a new signing key; the previous ones stay published", rotate),
    Command("retire-signing-keys", "stop publishing keys older than an age, e.g. 1d", retire, _older_than),
    dead_letters_command(consumers),
]


def main(argv: list[str] | None = None) -> int:
    return run_cli("identity", __doc__ or "", COMMANDS, Settings, argv)


if __name__ == "__main__":
    sys.exit(main())
