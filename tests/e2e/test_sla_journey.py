"""SLA clocks across the whole system: the cases worker process sees the controllable clock moved on the cases API,
publishes SlaWarning then SlaBreached, notifications mails them to the assigned agent, and the queue shows the
breach. Its own system (the clock is a start-up setting), so the shared e2e system never has a moved clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from e2e.e2e_steps import CreateAdmin, eventually, log_in, new_account, sign_up_and_confirm
from e2e.e2e_system import admin_creator, private_layout, running_system

from casefold_local.system import System

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.timeout(600)]

DEV_INTERNAL_API_KEY = "dev-internal-api-key-change-me"
SUBJECT = "Checkout is down"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def sla_system(postgres_admin_dsn: str, kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
                     ) -> AsyncIterator[System]:  # fmt: skip
    state: Path = tmp_path_factory.mktemp("sla-system")
    clock = (("CASES_CONTROLLABLE_CLOCK", "true"), ("CASES_SLA_POLL_SECONDS", "0.5"))
    layout = private_layout(postgres_admin_dsn, kafka_bootstrap, state, "sla", extra_env=clock)
    async with running_system(layout) as system:
        yield system


async def _advance(system: System, seconds: int) -> datetime:
    async with httpx.AsyncClient(base_url=system.layout.service("cases").url, timeout=30) as cases:
        response = await cases.post("/internal/clock", json={"advance_seconds": seconds},
                                    headers={"X-Internal-Key": DEV_INTERNAL_API_KEY})  # fmt: skip
    assert response.status_code == 200, response.text
    return datetime.fromisoformat(response.json()["now"])


async def _case_mails_to(inbox: httpx.AsyncClient, address: str, count: int, what: str) -> list[dict[str, Any]]:
    """The mails about the case (by its subject) to address, once there are count of them; oldest first."""

    async def probe() -> list[dict[str, Any]] | None:
        listed = (await inbox.get("/api/messages", params={"to": address})).json()
        about = [m for m in listed if SUBJECT in m["subject"]]
        if len(about) < count:
            return None
        full: list[dict[str, Any]] = [(await inbox.get(f"/api/messages/{m['id']}")).json() for m in about]
        return full

    mails: list[dict[str, Any]] = await eventually(probe, what)
    return mails


async def test_an_assigned_critical_case_warns_then_breaches_and_the_agent_is_mailed(sla_system: System) -> None:
    layout = sla_system.layout
    create_admin: CreateAdmin = admin_creator(sla_system)
    async with (
        httpx.AsyncClient(base_url=layout.gateway_url, timeout=30) as gateway,
        httpx.AsyncClient(base_url=layout.mail_url, timeout=10) as inbox,
    ):
        customer, agent, admin = new_account("customer"), new_account("agent"), new_account("admin")
        for account in (customer, agent):
            await sign_up_and_confirm(gateway, inbox, account)
        create_admin(admin.email, admin.display_name, admin.password)
        await log_in(gateway, admin)
        granted = await gateway.post(f"/api/identity/users/{agent.id}/roles", json={"role": "agent"},
                                     headers=admin.auth)  # fmt: skip
        assert granted.status_code == 204, granted.text
        await log_in(gateway, agent)
        await log_in(gateway, customer)

        products = (await gateway.get("/api/cases/products", headers=customer.auth)).json()
        opened = await gateway.post("/api/cases", headers=customer.auth, json={
            "product": products[0]["id"], "subject": SUBJECT, "description": "Every payment fails.",
            "severity": 1,
        })  # fmt: skip
        assert opened.status_code == 201, opened.text
        case_id, opened_at = opened.json()["id"], datetime.fromisoformat(opened.json()["opened_at"])

        async def take() -> httpx.Response | None:
            # The cases service learns that this user is an agent from identity's events: eventually.
            response = await gateway.post(f"/api/cases/{case_id}/assignment", json={"assignee_id": agent.id},
                                          headers=agent.auth)  # fmt: skip
            return response if response.status_code == 200 else None

        await eventually(take, "the agent takes the case")

        now = await _advance(sla_system, 0)
        await _advance(sla_system, int((opened_at + timedelta(minutes=50) - now).total_seconds()))
        [warning] = await _case_mails_to(inbox, agent.email, 1, "the SLA warning to the agent")
        assert "close to its first response deadline" in (warning["text"] or "")
        assert agent.email in warning["headers"]["To"]

        await _advance(sla_system, 15 * 60)
        mails = await _case_mails_to(inbox, agent.email, 2, "the SLA breach to the agent")
        assert sum("BREACHED" in (m["text"] or "") for m in mails) == 1

        queue = await gateway.get("/api/cases/queue", params={"sla": "breached", "assignee": "me"},
                                  headers=agent.auth)  # fmt: skip
        assert queue.status_code == 200, queue.text
        assert [item["id"] for item in queue.json()["items"]] == [case_id]
        # The customer's Activity History never shows the SLA mails.
        history = await gateway.get(f"/api/notifications/cases/{case_id}/activity", headers=customer.auth)
        assert history.status_code == 200, history.text
        assert all(not e["kind"].startswith("sla-") for e in history.json())
