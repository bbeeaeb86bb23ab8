"""`python -m identity api|worker|migrate|create-admin|rotate-signing-key|retire-signing-keys`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable

import asyncpg
import uvicorn

from casefold_platform.database import create_pool
from casefold_platform.health import serve_liveness
from casefold_platform.logging import configure_logging
from casefold_platform.metrics import serve_metrics
from casefold_platform.problems import DomainError
from casefold_platform.worker import run_until_signalled
from identity.adapters import signing_keys, users
from identity.app import accounts
from identity.app.context import Identity
from identity.app.expiry import purge_unverified
from identity.app.rebuild import rebuild_users
from identity.bootstrap import apply_migrations, build_identity, ensure_signing_key
from identity.config import Settings
from identity.domain.emails import normalise_email
from identity.main import create_app
from identity.workers import Workers


def _api(settings: Settings, _: argparse.Namespace) -> int:
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)
    return 0


async def _with_pool(settings: Settings, work: Callable[[asyncpg.Pool], Awaitable[int]]) -> int:
    if settings.migrate_on_start:
        await apply_migrations(settings)
    pool = await create_pool(settings, min_size=1, max_size=2)
    try:
        return await work(pool)
    finally:
        await pool.close()


async def _worker(settings: Settings, _: argparse.Namespace) -> int:
    if settings.metrics_port is not None:
        serve_metrics(settings.metrics_port)
    liveness = await serve_liveness(settings.health_port) if settings.health_port is not None else None

    async def run(pool: asyncpg.Pool) -> int:
        await run_until_signalled(Workers(settings, pool))  # raises LoopDied (exit 1) when the relay died
        return 0

    try:
        return await _with_pool(settings, run)
    finally:
        if liveness is not None:
            liveness.close()


async def _migrate(settings: Settings, _: argparse.Namespace) -> int:
    for name in await apply_migrations(settings):
        print(f"applied {name}")
    return 0


async def _create_admin(settings: Settings, args: argparse.Namespace) -> int:
    async def run(pool: asyncpg.Pool) -> int:
        await ensure_signing_key(settings, pool)
        ctx = build_identity(settings, pool)
        try:
            existing = await users.by_email(pool, normalise_email(args.email))
            if existing is not None:
                return await _promote_existing(ctx, existing, args.promote_existing)
            password = os.environ.get("IDENTITY_ADMIN_PASSWORD") or getpass.getpass("Password for the admin: ")
            row = await accounts.register(
                ctx, email=args.email, password=password, display_name=args.display_name, accept_terms=True,
                client_address="create-admin", role="admin", address_vouched=True,
            )  # fmt: skip
        except DomainError as exc:
            print(f"refused: {exc.detail} {exc.extensions.get('errors', '')}".rstrip(), file=sys.stderr)
            return 2
        print(f"created admin {row.id} <{row.email}> with the given password; its address counts as confirmed")
        return 0

    return await _with_pool(settings, run)


async def _promote_existing(ctx: Identity, existing: users.UserRow, confirmed: bool) -> int:
    """An account already holds the address: promote it only when verified and the operator said so."""
    if not existing.email_verified:
        print(
            f"refused: the account {existing.id} holds this address but has never confirmed it (anyone can sign "
            "up with any address), so it is not promoted; use another address, or have its owner confirm it and "
            "run again with --promote-existing",
            file=sys.stderr,
        )
        return 2
    if not confirmed:
        print(
            f"refused: the verified account {existing.id} ({existing.role}) already holds this address; pass "
            "--promote-existing to make it an admin (it keeps its own password)",
            file=sys.stderr,
        )
        return 2
    row = await accounts.promote_to_admin(ctx, existing.email)
    print(f"promoted the existing account {row.id} <{row.email}> to admin")
    if os.environ.get("IDENTITY_ADMIN_PASSWORD"):
        print("IDENTITY_ADMIN_PASSWORD was NOT used: the account keeps its own password", file=sys.stderr)
    return 0


async def _rebuild(settings: Settings, _: argparse.Namespace) -> int:
    async def run(pool: asyncpg.Pool) -> int:
        count = await rebuild_users(build_identity(settings, pool))
        print(f"rebuilt {count} users from the event store")
        return 0

    return await _with_pool(settings, run)


async def _purge_unverified(settings: Settings, _: argparse.Namespace) -> int:
    async def run(pool: asyncpg.Pool) -> int:
        count = await purge_unverified(build_identity(settings, pool))
        print(f"expired {count} unverified accounts older than {settings.unverified_ttl_seconds} s")
        return 0

    return await _with_pool(settings, run)


async def _rotate(settings: Settings, _: argparse.Namespace) -> int:
    async def run(pool: asyncpg.Pool) -> int:
        key = await signing_keys.add_key(pool)
        print(f"new signing key {key.kid}; earlier keys stay published until retired")
        return 0

    return await _with_pool(settings, run)


async def _retire(settings: Settings, args: argparse.Namespace) -> int:
    older_than = signing_keys.utc_interval(args.older_than)
    if older_than.total_seconds() < settings.access_token_seconds:
        print("refused: keys younger than the access-token lifetime may still have live tokens", file=sys.stderr)
        return 2

    async def run(pool: asyncpg.Pool) -> int:
        for kid in await signing_keys.retire_keys(pool, older_than):
            print(f"retired {kid}")
        return 0

    return await _with_pool(settings, run)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m identity")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("api", help="serve the HTTP API")
    commands.add_parser("worker", help="run the outbox relay until SIGTERM")
    commands.add_parser("migrate", help="apply database migrations and exit")
    admin = commands.add_parser("create-admin", help="create the first admin (password from IDENTITY_ADMIN_PASSWORD)")
    admin.add_argument("--email", required=True)
    admin.add_argument("--display-name", required=True)
    admin.add_argument(
        "--promote-existing", action="store_true",
        help="when a verified account already holds the email, make it an admin (it keeps its password)",
    )  # fmt: skip
    commands.add_parser("rebuild-read-model", help="re-project every user from the event store")
    commands.add_parser(
        "purge-unverified", help="expire unverified accounts older than IDENTITY_UNVERIFIED_TTL_SECONDS"
    )
    commands.add_parser("rotate-signing-key", help="add a new signing key; the old one stays published")
    retire = commands.add_parser("retire-signing-keys", help="stop publishing keys older than an age, e.g. 1d")
    retire.add_argument("--older-than", required=True)
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging("identity", settings.log_level)
    if args.command == "api":
        return _api(settings, args)
    if args.command == "migrate":
        settings = settings.model_copy(update={"run_migrations": True})
    handlers = {
        "worker": _worker, "migrate": _migrate, "create-admin": _create_admin, "rebuild-read-model": _rebuild,
        "purge-unverified": _purge_unverified, "rotate-signing-key": _rotate,
        "retire-signing-keys": _retire,
    }  # fmt: skip
    return asyncio.run(handlers[args.command](settings, args))


if __name__ == "__main__":
    sys.exit(main())
