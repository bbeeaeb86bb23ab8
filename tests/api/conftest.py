"""One whole system for the API's fuzzing and authorisation matrix, with a customer A and B, an agent and an admin,
and resources of A's (a case with an attachment and its emails) for B to be refused."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from api.api_world import World
from e2e.e2e_steps import Account, eventually, log_in, new_account, sign_up_and_confirm, upload
from e2e.e2e_system import admin_creator, private_layout, running_system

from casefold_local.stack import Layout
from casefold_local.system import System


@pytest.fixture(scope="session")
def api_layout(postgres_admin_dsn: str, kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Layout:
    # The setup signs four people in through the gateway within a minute: room above the default login burst.
    return private_layout(
        postgres_admin_dsn, kafka_bootstrap, tmp_path_factory.mktemp("api-system"), "api", gateway_login_burst=50
    )


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def api_system(api_layout: Layout) -> AsyncIterator[System]:
    async with running_system(api_layout) as system:
        yield system


async def _open_case(gateway: httpx.AsyncClient, owner: Account, product: str, receipt: str | None) -> dict[str, Any]:
    opened = await gateway.post(
        "/api/cases",
        json={"product": product, "subject": f"Checkout fails {uuid.uuid4().hex[:6]}", "description": "Since 09:00.",
              "severity": 2, "attachments": [receipt] if receipt else []},
        headers=owner.auth,
    )  # fmt: skip
    assert opened.status_code == 201, opened.text
    case: dict[str, Any] = opened.json()
    return case


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def world(api_system: System) -> World:
    """The people and A's resources, all made through the gateway as a client would."""
    layout = api_system.layout
    async with (
        httpx.AsyncClient(base_url=layout.gateway_url, timeout=30) as gateway,
        httpx.AsyncClient(base_url=layout.mail_url, timeout=10) as inbox,
    ):
        customer_a, customer_b, agent, admin = (new_account(k) for k in ("customer", "customer", "agent", "admin"))
        for person in (customer_a, customer_b, agent):
            await sign_up_and_confirm(gateway, inbox, person)
        admin_creator(api_system)(admin.email, admin.display_name, admin.password)
        await log_in(gateway, admin)
        admin.id = (await gateway.get("/api/identity/me", headers=admin.auth)).json()["id"]
        granted = await gateway.post(
            f"/api/identity/users/{agent.id}/roles", json={"role": "agent"}, headers=admin.auth
        )
        assert granted.status_code == 204, granted.text
        for person in (customer_a, customer_b, agent):
            await log_in(gateway, person)

        product = (await gateway.get("/api/cases/products", headers=customer_a.auth)).json()[0]["id"]
        stored = await upload(gateway, customer_a, "error.log", b"Traceback: checkout failed\n")
        case_a = await _open_case(gateway, customer_a, product, stored["reference"])
        case_b = await _open_case(gateway, customer_b, product, None)

        async def first_mail() -> str | None:
            response = await gateway.get(f"/api/notifications/cases/{case_a['id']}/activity", headers=customer_a.auth)
            entries = response.json() if response.status_code == 200 else []
            return entries[0]["id"] if entries else None

        message_id = await eventually(first_mail, "the acknowledgement of A's case in its activity")
        return World(
            layout=layout,
            people={"customer_a": customer_a, "customer_b": customer_b, "agent": agent, "admin": admin},
            product=product,
            case_a=case_a,
            case_b=case_b,
            attachment_a=case_a["attachments"][0]["id"],
            message_a=message_id,
        )
