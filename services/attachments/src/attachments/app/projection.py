"""The case events this service learns from: who owns each case, whether it is open, and what is linked to it."""

from __future__ import annotations

import asyncpg
import structlog

from attachments.adapters import repository as repo
from casefold_events.contracts import AttachmentAdded, CaseClosed, CaseOpened
from casefold_events.envelope import Envelope

log = structlog.get_logger("attachments.projection")


async def apply_case_event(conn: asyncpg.Connection, envelope: Envelope) -> None:
    """Update the case projection and links from one case event (inside the consumer's transaction)."""
    if envelope.event_type not in (CaseOpened.event_type, AttachmentAdded.event_type, CaseClosed.event_type):
        return
    event = envelope.event()
    if isinstance(event, CaseOpened):
        await repo.case_opened(conn, event.case_id, event.opened_by)
        for ref in event.attachments:
            await repo.link(conn, ref.attachment_id, event.case_id, ref.size, envelope.occurred_at)
    elif isinstance(event, AttachmentAdded):
        await repo.link(
            conn, event.attachment.attachment_id, event.case_id, event.attachment.size, envelope.occurred_at
        )
    elif isinstance(event, CaseClosed):
        await repo.case_closed(conn, event.case_id)
    log.debug("case_event_applied", event_type=envelope.event_type, case_id=envelope.stream_id)
