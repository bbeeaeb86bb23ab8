"""One function per command. Each runs in one transaction: idempotency claim, load, rule check, append, read-model
update and outbox rows commit together; a concurrent append to the same case restarts the unit on a fresh load a
bounded number of times, then answers 409."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar
from uuid import UUID

import asyncpg

from casefold_events import idempotency
from casefold_events.doorbell import Doorbell
from casefold_events.envelope import Metadata, RecordedEvent
from casefold_events.store import ConcurrencyError, Repository, in_transaction
from casefold_events.writes import Writes
from casefold_platform.problems import Conflict
from cases.adapters import directory, queue, read_model
from cases.adapters.numbers import NEXT_NUMBER_EXPRESSION, next_case_number
from cases.adapters.projection import HOLD_WRITER_LOCK, project
from cases.adapters.receipts import verify_reference
from cases.app.render import attachment_view, case_view, comment_view, people_of
from cases.domain.clock import Clock, SystemClock
from cases.domain.commands import (
    AddAttachment,
    AddComment,
    AssignCase,
    Caller,
    ChangeSeverity,
    CloseCase,
    OpenCase,
    SetWaiting,
)
from cases.domain.model import DEFAULT_MAX_COMMENTS_PER_CASE, Case, check_may_open, open_case
from cases.domain.sla import SlaPolicy

T = TypeVar("T")


@dataclass(frozen=True)
class CommandDeps:
    """What command handlers need; built once in the app factory."""

    pool: asyncpg.Pool
    repository: Repository[Case]
    catalogue: Mapping[str, str]
    receipt_key: bytes
    doorbell: Doorbell
    retries: int = 3
    max_comments_per_case: int = DEFAULT_MAX_COMMENTS_PER_CASE
    clock: Clock = field(default_factory=SystemClock)
    sla: SlaPolicy = field(default_factory=SlaPolicy)


@dataclass(frozen=True)
class Reply:
    """A command's HTTP answer; what an idempotent repeat gets again."""

    status: int
    body: Any


class ConcurrentChange(Conflict):
    slug = "concurrent-change"
    title = "Concurrent change"


async def _run(deps: CommandDeps, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    # The writer lock is the first statement of every command transaction, sent with its BEGIN. The commands append
    # without NOTIFY (_save): the relay is woken once the transaction has committed (casefold_events.doorbell).
    try:
        result = await in_transaction(deps.pool, work, retries=deps.retries, first=HOLD_WRITER_LOCK)
    except ConcurrencyError as exc:
        raise ConcurrentChange("The case was changed by someone else at the same time; please retry.") from exc
    deps.doorbell.ring()
    return result


async def _save(
    deps: CommandDeps, conn: asyncpg.Connection, case: Case, events: Sequence[Any], metadata: Metadata,
    defer: Writes | None = None,
) -> list[RecordedEvent]:  # fmt: skip
    """A command's append: without NOTIFY in its transaction, since _run rings the doorbell after COMMIT."""
    return await deps.repository.save(conn, case, events, metadata, defer=defer, notify=False)


# What a command already read of the directory (the caller, with its idempotency claim): None for "not there".
Known = Mapping[UUID, directory.Person | None]


async def _people(conn: asyncpg.Connection, wanted: set[UUID], known: Known) -> dict[UUID, directory.Person]:
    """The directory entries of wanted, asking the database only for those not known already."""
    people = {uid: p for uid, p in known.items() if p is not None and uid in wanted}
    missing = wanted - known.keys()
    return people | await directory.people(conn, missing) if missing else people


async def _case_reply(
    deps: CommandDeps, conn: asyncpg.Connection, case: Case, caller: Caller, known: Known | None = None
) -> Any:
    people = await _people(conn, people_of(case), known or {})
    sla = await read_model.sla_clocks(conn, UUID(case.id), deps.clock.now()) if caller.is_agent else None
    return case_view(case, caller, people, sla).model_dump(mode="json")


async def _with_directory_verification(pool: asyncpg.Pool, caller: Caller) -> Caller:
    """The caller, verified if the directory has seen them confirm their address since the token was issued.

    The token's claim is a snapshot from login; the directory follows identity's events, and its flag is about the
    address it holds now (a later EmailChanged replaces both), so it only ever widens the claim, never narrows it.
    """
    if caller.email_verified or caller.is_agent:
        return caller
    async with pool.acquire() as conn:
        person = (await directory.people(conn, [caller.user_id])).get(caller.user_id)
    verified = person is not None and person.email is not None and person.email_verified
    return replace(caller, email_verified=True) if verified else caller


async def _idempotent(
    conn: asyncpg.Connection,
    key: str | None,
    scope: str,
    request: Any,
    produce: Callable[[], Awaitable[Reply]],
    *,
    also: Sequence[str] = (),
    also_args: Sequence[Any] = (),
    taken: Callable[[tuple[Any, ...]], None] | None = None,
    defer: Writes | None = None,
) -> Reply:
    """Run produce() once per key: a repeat gets the first reply and writes nothing.

    also: SQL expressions (parameters also_args, from $4) evaluated in the claim's own statement, for a new key only;
    taken() gets their values before produce() runs. defer: the writes produce() left to ride together; the key's
    completion joins them and they are sent as one statement (casefold_events.writes) before the reply is returned.
    """
    if key is None:
        reply = await produce()
        if defer is not None:
            await defer.flush(conn)
        return reply
    fingerprint = idempotency.fingerprint(request)
    try:
        if not also:
            stored = await idempotency.claim(conn, scope, key, fingerprint)
        else:
            stored, values = await idempotency.claim_with(conn, scope, key, fingerprint, also, also_args)
            if values is not None and taken is not None:
                taken(values)
    except idempotency.IdempotencyKeyReused as exc:
        raise Conflict("This Idempotency-Key was already used with a different request.") from exc
    if stored is not None:
        return Reply(stored.status, stored.body)
    reply = await produce()
    await idempotency.complete(conn, scope, key, reply.status, reply.body, defer=defer)
    if defer is not None:
        await defer.flush(conn)
    return reply


async def handle_open_case(
    deps: CommandDeps, command: OpenCase, caller: Caller, metadata: Metadata, idempotency_key: str | None = None
) -> Reply:
    """OpenCase -> CaseOpened (201 case)."""
    caller = await _with_directory_verification(deps.pool, caller)
    # Rules that need no I/O first: a refused open must not consume a case number.
    permit = check_may_open(command, caller, deps.catalogue)
    request = {**command.__dict__, "case_id": None}

    async def work(conn: asyncpg.Connection) -> Reply:
        numbers: list[int] = []
        known: dict[UUID, directory.Person | None] = {}
        # The append, the summary and the key's completion: one statement, once the reply is known.
        pending = Writes()

        def took(values: tuple[Any, ...]) -> None:
            *number, person = values
            numbers.extend(number)
            known[caller.user_id] = directory.person_of(person)

        async def produce() -> Reply:
            verified = permit.with_attachments(
                [
                    verify_reference(deps.receipt_key, ref, f"attachments.{i}")
                    for i, ref in enumerate(command.attachments)
                ]
            )
            number = numbers[0] if numbers else await next_case_number(conn)
            event = open_case(command, verified, number=number)
            # A new stream: nothing to load, the save checks that it is still new.
            case = Case(str(command.case_id))
            envelopes = await _save(deps, conn, case, [event], metadata, pending)
            await project(conn, envelopes, sla=deps.sla, defer=pending)
            if caller.is_agent:  # an agent's reply reads the SLA clocks just written
                await pending.flush(conn)
            return Reply(201, await _case_reply(deps, conn, case, caller, known))

        # Without attachments the number comes with the key's claim (one round trip), and with it the caller's
        # directory entry for the reply. With attachments the number is taken after their receipts are checked: a
        # refused open must not consume a number (sequences ignore rollbacks).
        also = [*([] if command.attachments else [NEXT_NUMBER_EXPRESSION]), directory.person_expression(4)]
        return await _idempotent(conn, idempotency_key, f"{caller.user_id}:open-case", request, produce, also=also,
                                 also_args=[caller.user_id], taken=took, defer=pending)  # fmt: skip

    return await _run(deps, work)


async def handle_add_comment(
    deps: CommandDeps, command: AddComment, caller: Caller, metadata: Metadata, idempotency_key: str | None = None
) -> Reply:
    """AddComment -> CommentAdded (201 comment)."""
    request = {"case_id": command.case_id, "body": command.body, "internal": command.internal}

    async def work(conn: asyncpg.Connection) -> Reply:
        known: dict[UUID, directory.Person | None] = {}
        # The append, the comment's rows and the key's completion: one statement, once the reply is known.
        pending = Writes()

        async def produce() -> Reply:
            case = await deps.repository.load(conn, str(command.case_id))
            events = case.add_comment(command, caller, max_comments=deps.max_comments_per_case)
            envelopes = await _save(deps, conn, case, events, metadata, pending)
            await project(conn, envelopes, sla=deps.sla, defer=pending)
            people = await _people(conn, {caller.user_id}, known)
            return Reply(201, comment_view(case.state.comments[-1], people).model_dump(mode="json"))

        def took(values: tuple[Any, ...]) -> None:
            known[caller.user_id] = directory.person_of(values[0])

        # The author's directory entry (for the reply) comes with the key's claim.
        scope = f"{caller.user_id}:comment:{command.case_id}"
        return await _idempotent(conn, idempotency_key, scope, request, produce, also=[directory.person_expression(4)],
                                 also_args=[caller.user_id], taken=took, defer=pending)  # fmt: skip

    return await _run(deps, work)


async def handle_add_attachment(deps: CommandDeps, command: AddAttachment, caller: Caller, metadata: Metadata) -> Reply:
    """AddAttachment -> AttachmentAdded (201 attachment); the same attachment twice on a case is 409."""

    async def work(conn: asyncpg.Connection) -> Reply:
        case = await deps.repository.load(conn, str(command.case_id))
        # Visibility before the receipt: a stranger's case is 404 whatever the reference.
        case.ensure_visible_to(caller)
        attachment = verify_reference(deps.receipt_key, command.reference, "reference")
        events = case.add_attachment(attachment, caller)
        envelopes = await _save(deps, conn, case, events, metadata)
        await project(conn, envelopes, sla=deps.sla)
        return Reply(201, attachment_view(case.state.attachments[-1]).model_dump(mode="json"))

    return await _run(deps, work)


async def handle_close_case(deps: CommandDeps, command: CloseCase, caller: Caller, metadata: Metadata) -> Reply:
    """CloseCase -> CaseClosed (200 case, status closed); final."""

    async def work(conn: asyncpg.Connection) -> Reply:
        case = await deps.repository.load(conn, str(command.case_id))
        events = case.close(caller)
        envelopes = await _save(deps, conn, case, events, metadata)
        await project(conn, envelopes, sla=deps.sla)
        return Reply(200, await _case_reply(deps, conn, case, caller))

    return await _run(deps, work)


async def _agent_command(
    deps: CommandDeps,
    case_id: UUID,
    caller: Caller,
    metadata: Metadata,
    idempotency_key: str | None,
    name: str,
    request: dict[str, Any],
    decide: Callable[[asyncpg.Connection, Case], Awaitable[list[Any]]],
) -> Reply:
    """Load, decide, append and project (nothing when the decision changes nothing), reply with the case."""

    async def work(conn: asyncpg.Connection) -> Reply:
        async def produce() -> Reply:
            case = await deps.repository.load(conn, str(case_id))
            events = await decide(conn, case)
            if events:
                saved = await _save(deps, conn, case, events, metadata)
                await project(conn, saved, sla=deps.sla)
            return Reply(200, await _case_reply(deps, conn, case, caller))

        return await _idempotent(conn, idempotency_key, f"{caller.user_id}:{name}:{case_id}", request, produce)

    return await _run(deps, work)


async def handle_assign(
    deps: CommandDeps, command: AssignCase, caller: Caller, metadata: Metadata, idempotency_key: str | None = None
) -> Reply:
    """AssignCase -> CaseAssigned (200 case); the assignee must be a current agent or admin."""

    async def decide(conn: asyncpg.Connection, case: Case) -> list[Any]:
        target = command.assignee_id
        is_agent = target is not None and await queue.is_current_agent(conn, target)
        return case.assign(command, caller, assignee_is_agent=is_agent)

    request = {"assignee_id": command.assignee_id}
    return await _agent_command(deps, command.case_id, caller, metadata, idempotency_key, "assign", request, decide)


async def handle_set_waiting(
    deps: CommandDeps, command: SetWaiting, caller: Caller, metadata: Metadata, idempotency_key: str | None = None
) -> Reply:
    """SetWaiting -> WaitingStateChanged (200 case)."""

    async def decide(_: asyncpg.Connection, case: Case) -> list[Any]:
        return case.set_waiting(command, caller)

    request = {"waiting_on": command.waiting_on}
    return await _agent_command(deps, command.case_id, caller, metadata, idempotency_key, "waiting", request, decide)


async def handle_change_severity(
    deps: CommandDeps, command: ChangeSeverity, caller: Caller, metadata: Metadata, idempotency_key: str | None = None
) -> Reply:
    """ChangeSeverity -> SeverityChanged (200 case), with its reason."""

    async def decide(_: asyncpg.Connection, case: Case) -> list[Any]:
        return case.change_severity(command, caller)

    request = {"severity": command.severity, "reason": command.reason, "prioritised": command.prioritised}
    return await _agent_command(deps, command.case_id, caller, metadata, idempotency_key, "severity", request, decide)
