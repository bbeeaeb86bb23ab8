"""Who may call what: every operation of the gateway's combined OpenAPI document, as anonymous, customer A, customer
B (on A's case, attachment and emails), an agent and an admin, through the gateway, against one table.

The table (ACCESS) is the one place that says who may call an operation. The test fails when the document has an
operation the table does not name (a new route cannot escape the matrix), when an entry names no operation any more,
and when the table disagrees with the document's own security (public in one, protected in the other).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from api.api_world import PEOPLE_ADDRESS, World

# The first test here also waits for the whole system and its people (a few minutes on a loaded machine).
pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.timeout(600)]

CALLERS = ("anonymous", "customer_a", "customer_b", "agent", "admin")
EVERYONE = frozenset(CALLERS)
SIGNED_IN = frozenset(CALLERS) - {"anonymous"}
STAFF = frozenset({"agent", "admin"})


@dataclass(frozen=True)
class Access:
    """Who may call an operation, and what to send.

    allowed: the callers that pass authorisation; answered with a status in `ok` (2xx, or the 4xx a valid caller
    gets for this deliberately harmless request). Everyone else gets the refusal of their kind: 401 without a token,
    404 for customer B when the resource in the path is customer A's (`owned`: a customer never learns that
    another's case exists), else 403 (customer A on a staff-only route about their own case, for one).
    """

    allowed: frozenset[str]
    owned: bool = False
    ok: frozenset[int] = frozenset(range(200, 300))
    json: Any = None
    params: Mapping[str, str] = field(default_factory=dict)
    upload: bool = False

    def expected(self, caller: str) -> str:
        if caller in self.allowed:
            return "allowed"
        if caller == "anonymous":
            return "401"
        if self.owned and caller == "customer_b":
            return "404"
        return "403"


def public(ok: frozenset[int] = frozenset(range(200, 300)), **kw: Any) -> Access:
    return Access(EVERYONE, ok=ok, **kw)


def signed_in(**kw: Any) -> Access:
    return Access(SIGNED_IN, **kw)


def owner_or_staff(**kw: Any) -> Access:
    """Customer A's resource: A and the staff; customer B gets 404 (a customer never learns another's exists)."""
    return Access(frozenset({"customer_a"}) | STAFF, owned=True, **kw)


def staff_on_a_case(**kw: Any) -> Access:
    """An agents' command on customer A's case: A is refused (403), B is told there is no such case (404)."""
    return Access(STAFF, owned=True, **kw)


INVALID = frozenset({422})  # an empty body: the caller passed authorisation, the fields did not
CONFLICT = frozenset({409})

# Every operation of the combined document. A new route needs an entry here: say who may call it (public,
# signed_in, owner_or_staff for customer A's case/attachment/message in the path, Access(STAFF) for agents' routes,
# staff_on_a_case for agents' commands on A's case, Access(frozenset({"admin"})) for administrators' routes) and
# send a request that cannot harm the other checks (an empty JSON body, answered 422, is the usual one for commands:
# `json={}, ok=INVALID`; a valid one where the handler must run to refuse, as for B on A's case).
ACCESS: dict[str, Access] = {
    # identity: sign-up, confirmation and recovery are public (identity rate-limits them itself).
    "identity_sign_up": public(INVALID, json={}),
    "identity_display_name_availability": public(params={"display_name": "Matrix Check"}),
    "identity_confirm_email": public(INVALID, json={}),
    "identity_resend_confirmation": public(INVALID, json={}),
    "identity_request_password_reset": public(INVALID, json={}),
    "identity_confirm_password_reset": public(INVALID, json={}),
    "identity_log_in": public(INVALID, json={}),
    "identity_refresh_session": public(frozenset({401}), json={"refresh_token": "not-a-token"}),
    "identity_log_out": public(frozenset({204}), json={"refresh_token": "not-a-token"}),  # idempotent
    "identity_jwks": public(),
    "identity_read_me": signed_in(),
    "identity_update_me": signed_in(ok=INVALID, json={"display_name": ""}),
    "identity_change_password": signed_in(ok=INVALID, json={}),
    "identity_change_email": signed_in(ok=INVALID, json={}),
    # the admin's own id: "cannot change their own role" (409), so the matrix never changes anyone's role.
    "identity_grant_role": Access(frozenset({"admin"}), ok=CONFLICT, json={"role": "admin"}),
    "identity_list_users": Access(frozenset({"admin"})),
    # the admin's own id again: disabling oneself is refused (409), enabling an enabled account changes nothing.
    "identity_disable_user": Access(frozenset({"admin"}), ok=CONFLICT),
    "identity_enable_user": Access(frozenset({"admin"})),
    "identity_user_audit": Access(frozenset({"admin"})),
    # cases
    "cases_list_products": signed_in(),
    "cases_list_severities": signed_in(),
    "cases_open_case": signed_in(ok=INVALID, json={}),
    "cases_list_cases": signed_in(),
    "cases_count_cases": signed_in(),
    "cases_get_case_by_number": owner_or_staff(),
    "cases_get_case": owner_or_staff(),
    # Valid bodies: a body that fails validation is answered 422 before anyone looks for the case.
    "cases_add_comment": owner_or_staff(ok=frozenset({201}), json={"body": "Matrix check."}),
    "cases_add_attachment": owner_or_staff(ok=INVALID, json={"reference": "not-a-receipt"}),
    "cases_close_case": owner_or_staff(ok=frozenset({200, 409})),  # the first allowed caller closes it
    # cases: the agents' workspace
    "cases_queue": Access(STAFF),
    "cases_list_agents": Access(STAFF),
    "cases_assign_case": staff_on_a_case(ok=frozenset({200, 409}), json={"assignee_id": None}),
    "cases_set_waiting": staff_on_a_case(ok=frozenset({200, 409}), json={"waiting_on": "support"}),
    # the agent lowers A's case from 2 to 3; the admin then gets "nothing would change" (422)
    "cases_change_severity": staff_on_a_case(
        ok=frozenset({200, 422}), json={"severity": 3, "reason": "Matrix check: minor after all."}
    ),
    # attachments
    "attachments_upload": signed_in(upload=True),
    "attachments_metadata": owner_or_staff(),
    "attachments_download": owner_or_staff(),
    # notifications: a case's emails
    "notifications_case_activity": owner_or_staff(),
    "notifications_message": owner_or_staff(),
}
LAST = ("cases_close_case",)  # run after every other operation has seen A's case open


def _operations(document: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    found = [
        (operation["operationId"], method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    return sorted(found, key=lambda op: op[0] in LAST)


def _path_values(world: World) -> dict[str, str]:
    return {
        "case_id": world.case_a["id"],
        "number": world.case_a["number"],
        "attachment_id": world.attachment_a,
        "message_id": world.message_a,
        "user_id": world.people["admin"].id,
    }


def _class_of(status: int, access: Access) -> str:
    if status in access.ok:
        return "allowed"
    return str(status)


@pytest.fixture(scope="module")
def combined_document(world: World) -> dict[str, Any]:
    """The gateway's own combined document (deploy/local builds it from the four services at start)."""
    response = httpx.get(f"{world.layout.gateway_url}/api/openapi.json", timeout=30)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def unlisted(document: dict[str, Any]) -> str | None:
    """What the table lacks for this document (operations without an entry, entries without an operation), with
    what to do about it; None when every operation has its entry."""
    operations = {op_id: f"{method.upper()} {path}" for op_id, method, path, _ in _operations(document)}
    missing, stale = sorted(set(operations) - set(ACCESS)), sorted(set(ACCESS) - set(operations))
    if not missing and not stale:
        return None
    return (
        "operations without an entry in ACCESS (tests/api/test_authorisation_matrix.py): "
        + (", ".join(f"{op_id} ({operations[op_id]})" for op_id in missing) or "none")
        + ". Add one per operation: who may call it (public / signed_in / owner_or_staff for customer A's resource"
        " in the path / Access(STAFF) for agents' routes / staff_on_a_case for agents' commands on A's case /"
        " Access(frozenset({'admin'})) for administrators' routes),"
        " and a harmless request (e.g. json={}, ok=INVALID for a command)."
        + (f" Entries for operations that are gone (remove them): {', '.join(stale)}." if stale else "")
    )


def test_every_operation_of_the_combined_document_has_an_access_entry(combined_document: dict[str, Any]) -> None:
    assert unlisted(combined_document) is None, unlisted(combined_document)


def test_a_new_operation_without_an_entry_is_named_with_what_to_add() -> None:
    document = {
        "paths": {path: {"get": {"operationId": op_id}} for op_id, path in [(op, f"/api/x/{op}") for op in ACCESS]}
    }
    document["paths"]["/api/cases/queue"] = {"get": {"operationId": "cases_agent_queue"}}

    problem = unlisted(document)

    assert problem is not None
    assert "cases_agent_queue (GET /api/cases/queue)" in problem
    assert "Access(STAFF) for agents' routes" in problem


def test_the_table_agrees_with_the_documented_security(combined_document: dict[str, Any]) -> None:
    disagreeing = [
        f"{op_id}: documented {'protected' if operation.get('security') else 'public'}, "
        f"table {'public' if 'anonymous' in ACCESS[op_id].allowed else 'protected'}"
        for op_id, _, _, operation in _operations(combined_document)
        if op_id in ACCESS and bool(operation.get("security")) == ("anonymous" in ACCESS[op_id].allowed)
    ]

    assert not disagreeing, disagreeing


async def test_every_caller_gets_the_answer_of_their_kind_on_every_operation(
    world: World, combined_document: dict[str, Any]
) -> None:
    tokens = {person: world.fresh_token(person) for person in CALLERS if person != "anonymous"}
    values = _path_values(world)
    wrong: list[str] = []
    async with httpx.AsyncClient(base_url=world.layout.gateway_url, timeout=30) as gateway:
        for op_id, method, path, _ in _operations(combined_document):
            access = ACCESS.get(op_id)
            if access is None:
                continue  # the entry test names it
            url = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)
            for caller in CALLERS:
                headers = {"X-Forwarded-For": PEOPLE_ADDRESS}
                if caller in tokens:
                    headers["Authorization"] = f"Bearer {tokens[caller]}"
                files = {"file": ("matrix.txt", b"matrix check\n", "text/plain")} if access.upload else None
                response = await gateway.request(
                    method, url, headers=headers, json=access.json, params=access.params, files=files
                )
                got, expected = _class_of(response.status_code, access), access.expected(caller)
                if got != expected:
                    wrong.append(f"{op_id} ({method.upper()} {path}) as {caller}: {response.status_code}, "
                                 f"expected {expected}: {response.text[:200]}")  # fmt: skip

    assert not wrong, f"{len(wrong)} answers of the wrong kind:\n" + "\n".join(wrong)
