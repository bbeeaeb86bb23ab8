"""One function per event: update the projections and queue the emails, in the consumer's transaction."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from uuid import UUID

import asyncpg

from casefold_events.contracts import (
    AttachmentAdded,
    CaseClosed,
    CaseOpened,
    CommentAdded,
    EmailChanged,
    EmailConfirmed,
    ProfileUpdated,
    RoleGranted,
    SendAccountEmail,
    SlaBreached,
    SlaWarning,
    UserDisabled,
    UserEnabled,
    UserRegistered,
)
from casefold_platform.tracing import current_traceparent
from notifications.adapters import case_projection, directory, outbox
from notifications.adapters.case_projection import Case
from notifications.adapters.directory import AGENT_ROLES, User
from notifications.app.mailer import DISABLED_RECIPIENT, Mailer, human_size
from notifications.domain.emails import ALL_DIRECTIONS, Draft, Kind, mailbox, severity_label, thread_references


class UnknownCase(LookupError):
    """A case event for a case whose CaseOpened was never seen (same partition, so it should have been)."""


async def _queue(conn: asyncpg.Connection, *drafts: Draft) -> None:
    traceparent = current_traceparent()  # the consumer's span: the SMTP send continues this trace
    for draft in drafts:
        if draft.case_id is not None and draft.in_reply_to is not None:
            seen: list[str] = ["outbound"] if draft.direction == "outbound" else list(ALL_DIRECTIONS)
            earlier = await outbox.thread(conn, draft.case_id, seen)
            draft = replace(draft, references=thread_references(draft.in_reply_to, earlier))
        await outbox.insert(conn, replace(draft, traceparent=traceparent))


async def _case(conn: asyncpg.Connection, case_id: UUID) -> Case:
    case = await case_projection.get(conn, case_id)
    if case is None:
        raise UnknownCase(f"case {case_id} is not in the projection")
    return case


async def _author(conn: asyncpg.Connection, user_id: UUID, fallback: str) -> str:
    user = await directory.get(conn, user_id)
    return user.display_name if user else fallback


async def case_opened(conn: asyncpg.Connection, mail: Mailer, event_id: UUID, event: CaseOpened) -> None:
    case = Case(
        case_id=event.case_id, number=event.number, subject=event.subject, owner_id=event.opened_by,
        severity=event.severity, prioritised=event.prioritised, status="open", opened_event_id=event_id,
    )  # fmt: skip
    owner = await case_projection.open_case(conn, case)
    details = {"product_name": event.product_name, "severity": severity_label(event.severity)}
    drafts = [mail.to_customer(event_id, "ack", case, owner, prioritised=event.prioritised, **details)]
    reasons = [r for r, yes in (("prioritised", event.prioritised), ("severity 1", event.severity == 1)) if yes]
    if reasons:
        customer = mailbox(owner.email, owner.display_name) if owner else str(event.opened_by)
        drafts.append(mail.to_support(event_id, "alert", "internal", case, reasons=" and ".join(reasons),
                                      customer=customer, description=event.description, **details))  # fmt: skip
    await _queue(conn, *drafts)


async def comment_added(conn: asyncpg.Connection, mail: Mailer, event_id: UUID, event: CommentAdded) -> None:
    if event.internal:
        return  # internal comments are for agents only: never emailed
    case = await _case(conn, event.case_id)
    if event.author_role == "customer":
        author = await _author(conn, event.author_id, "The customer")
        await _queue(conn, mail.to_support(event_id, "customer-comment", "inbound", case, author=author,
                                           body=event.body))  # fmt: skip
    else:
        author = await _author(conn, event.author_id, "A support engineer")
        owner = await directory.get(conn, case.owner_id)
        await _queue(conn, mail.to_customer(event_id, "agent-comment", case, owner, author=author, body=event.body))


async def attachment_added(conn: asyncpg.Connection, mail: Mailer, event_id: UUID, event: AttachmentAdded) -> None:
    case = await _case(conn, event.case_id)
    a = event.attachment
    details = {"filename": a.filename, "size": human_size(a.size), "content_type": a.content_type}
    if event.added_by_role == "customer":
        author = await _author(conn, event.added_by, "The customer")
        draft = mail.to_support(event_id, "attachment", "inbound", case, to_customer=False, author=author, **details)
    else:
        owner = await directory.get(conn, case.owner_id)
        draft = mail.to_customer(event_id, "attachment", case, owner, to_customer=True, author="", **details)
    await _queue(conn, draft)


async def case_closed(conn: asyncpg.Connection, mail: Mailer, event_id: UUID, event: CaseClosed) -> None:
    case = await _case(conn, event.case_id)
    await case_projection.set_status(conn, event.case_id, "closed")
    owner = await directory.get(conn, case.owner_id)
    await _queue(conn, mail.to_customer(event_id, "closed", case, owner))


_CLOCK_WORDS = {
    "first_response": ("first response", "Reply to the customer (a public comment) to stop the clock."),
    "resolution": ("resolution", "Resolve and close the case, or mark it waiting on the customer to pause the clock."),
}


async def sla_signal(conn: asyncpg.Connection, mail: Mailer, event_id: UUID, event: SlaWarning | SlaBreached) -> None:
    """To the assigned agent; to the support address when the case is unassigned, or its assignee is unknown here,
    no longer an agent or disabled (the case then counts as unassigned, as in the cases service's queues)."""
    case = await _case(conn, event.case_id)
    assignee = await directory.get(conn, event.assignee_id) if event.assignee_id else None
    kind: Kind = "sla-breached" if isinstance(event, SlaBreached) else "sla-warning"
    label, action = _CLOCK_WORDS[event.clock]
    due = event.due_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    await _queue(conn, mail.to_agent(event_id, kind, case, assignee, clock_label=label, due=due, action=action,
                                     assignee=_assignee_words(assignee)))  # fmt: skip


def _assignee_words(assignee: User | None) -> str:
    """Who the case is assigned to, as the SLA email says it (a disabled assignee named, so the team reassigns)."""
    if assignee is None or assignee.role not in AGENT_ROLES:
        return "nobody (unassigned)"
    if assignee.disabled:
        return f"{assignee.display_name} (account disabled: the case counts as unassigned)"
    return assignee.display_name


async def _release_waiting(conn: asyncpg.Connection, user_id: UUID) -> None:
    user = await directory.get(conn, user_id)
    if user is not None:
        await outbox.resolve_waiting(conn, user_id, mailbox(user.email, user.display_name))


async def user_registered(conn: asyncpg.Connection, mail: Mailer, event_id: UUID, event: UserRegistered) -> None:
    await directory.register(conn, event.user_id, event.email, event.display_name, event.role)
    await _release_waiting(conn, event.user_id)


async def email_confirmed(conn: asyncpg.Connection, mail: Mailer, event_id: UUID, event: EmailConfirmed) -> None:
    await directory.set_email(conn, event.user_id, event.email, verified=True)


async def email_changed(conn: asyncpg.Connection, mail: Mailer, event_id: UUID, event: EmailChanged) -> None:
    await directory.set_email(conn, event.user_id, event.email, verified=True)


async def profile_updated(conn: asyncpg.Connection, mail: Mailer, event_id: UUID, event: ProfileUpdated) -> None:
    await directory.set_display_name(conn, event.user_id, event.display_name)


async def role_granted(conn: asyncpg.Connection, mail: Mailer, event_id: UUID, event: RoleGranted) -> None:
    """A role from now on; an agent's role revoked sends what is still queued for them to the support address."""
    await directory.set_role(conn, event.user_id, event.role)
    if event.role not in AGENT_ROLES:
        await outbox.redirect_agent_mail(conn, event.user_id, mail.support_address)


async def user_disabled(conn: asyncpg.Connection, mail: Mailer, version: int, event: UserDisabled) -> None:
    """The account is disabled from this version of the user's stream on (an older, replayed UserDisabled changes
    nothing): case mail to them not sent yet is withheld, and agent mail still queued for them goes to the support
    address, as it would have had they been disabled when it was written."""
    if await directory.set_disabled(conn, event.user_id, disabled=True, version=version):
        await stop_queued_mail(conn, event.user_id, mail.support_address)


async def stop_queued_mail(conn: asyncpg.Connection, user_id: UUID, support_address: str) -> None:
    """What is still queued for a user just found disabled: their case mail is withheld, their agent mail goes to
    the support address (the backfill applies it too)."""
    await outbox.withhold_for(conn, user_id, DISABLED_RECIPIENT)
    await outbox.redirect_agent_mail(conn, user_id, support_address)


async def user_enabled(conn: asyncpg.Connection, mail: Mailer, version: int, event: UserEnabled) -> None:
    """Mail flows again from now on; what was withheld meanwhile stays withheld (the portal shows the case)."""
    await directory.set_disabled(conn, event.user_id, disabled=False, version=version)


async def send_account_email(conn: asyncpg.Connection, mail: Mailer, event_id: UUID, event: SendAccountEmail) -> None:
    expires = event.expires_at.strftime("%Y-%m-%d %H:%M UTC") if event.expires_at else None
    draft = mail.account(event_id, event.template, event.to, event.display_name, event.action_url, expires)
    await _queue(conn, draft)
