"""The case events this service learns from: who owns each case, whether it is open, and what is linked to it."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
import structlog

from attachments.adapters import repository as repo
from casefold_events.contracts import AttachmentAdded, CaseClosed, CaseOpened
from casefold_events.envelope import Envelope

log = structlog.get_logger("attachments.projection")


async def apply_case_event(conn: asyncpg.Connection, envelope: Envelope) -> None:
    """Update the case projection and links from one case event (inside the consumer's transaction)."""
    if envelope.event_type in (CaseOpened.event_type, AttachmentAdded.event_type, CaseClosed.event_type):
        event = envelope.event()
        if isinstance(event, CaseOpened):
            await repo.case_opened(conn, event.case_id, event.opened_by)
            for ref in event.attachments:
                await _link(conn, ref.attachment_id, event.case_id, ref.size, envelope.occurred_at)
        elif isinstance(event, AttachmentAdded):
            attachment = event.attachment
            await _link(conn, attachment.attachment_id, event.case_id, attachment.size, envelope.occurred_at)
        elif isinstance(event, CaseClosed):
            await repo.case_closed(conn, event.case_id)
        log.debug("case_event_applied", event_type=envelope.event_type, case_id=envelope.stream_id)
    # Every case event moves the collector's watermark, last so that the shared row is locked only briefly.
    await repo.record_applied(conn, envelope.occurred_at)


async def _link(
    conn: asyncpg.Connection, attachment_id: uuid.UUID, case_id: uuid.UUID, size: int, at: datetime
) -> None:
    if not await repo.link(conn, attachment_id, case_id, size, at):
        # The collector must never get here first (it waits for this consumer); say so loudly if it ever does.
        log.error("attachment_linked_but_missing", attachment_id=str(attachment_id), case_id=str(case_id))
