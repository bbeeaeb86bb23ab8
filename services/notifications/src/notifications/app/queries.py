"""The activity history: a case's emails for its owner and for agents; 404 for anyone else."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from casefold_platform.auth import Principal
from casefold_platform.problems import NotFound
from notifications.adapters import case_projection, outbox
from notifications.domain.emails import ALL_DIRECTIONS, CUSTOMER_VISIBLE, describe


def _directions(principal: Principal) -> list[str]:
    """Customers see what was sent to them and the copies of what they wrote; internal alerts are for agents."""
    return list(ALL_DIRECTIONS) if principal.is_agent else sorted(CUSTOMER_VISIBLE)


async def _visible_case(conn: asyncpg.Connection, principal: Principal, case_id: UUID) -> None:
    case = await case_projection.get(conn, case_id)
    if case is None or not (principal.is_agent or case.owner_id == principal.user_id):
        raise NotFound("No such case.")


async def case_activity(conn: asyncpg.Connection, principal: Principal, case_id: UUID) -> list[dict[str, Any]]:
    await _visible_case(conn, principal, case_id)
    rows = await outbox.list_for_case(conn, case_id, _directions(principal))
    return [{**r, "label": describe(r["kind"], for_agent=principal.is_agent)} for r in rows]


async def message(conn: asyncpg.Connection, principal: Principal, email_id: UUID) -> dict[str, Any]:
    email = await outbox.get(conn, email_id)
    # Account emails (no case) are never part of an activity history: they carried single-use links.
    if email is None or email["case_id"] is None or email["direction"] not in _directions(principal):
        raise NotFound("No such message.")
    try:
        await _visible_case(conn, principal, email["case_id"])
    except NotFound:
        raise NotFound("No such message.") from None
    return {**email, "label": describe(email["kind"], for_agent=principal.is_agent)}
