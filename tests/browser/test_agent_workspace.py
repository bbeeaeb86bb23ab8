"""The support team's workspace in a real Chromium against the whole system (PORTAL.md, Agent workspace)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from browser.browser_steps import PHONE, Portal, Steps, eventually_visible, log_in, no_horizontal_scroll
from e2e.e2e_steps import Account, CreateAdmin, new_account, sign_up_and_confirm
from e2e.e2e_steps import log_in as api_log_in
from playwright.async_api import Locator, Page, expect

from casefold_local.system import System

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.integration, pytest.mark.timeout(420)]
DEV_CASES_INTERNAL_KEY = "dev-internal-api-key-change-me"
HOUR = 3600


async def _confirmed(portal: Portal, kind: str) -> Account:
    account = new_account(kind)
    await sign_up_and_confirm(portal.gateway, portal.inbox, account)
    return account


async def _open_case(portal: Portal, customer: Account, subject: str) -> dict[str, Any]:
    await api_log_in(portal.gateway, customer)
    products = (await portal.gateway.get("/api/cases/products", headers=customer.auth)).json()
    response = await portal.gateway.post(
        "/api/cases",
        json={"product": products[0]["id"], "subject": subject, "description": "Nothing loads.", "severity": 1},
        headers={**customer.auth, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.text
    case: dict[str, Any] = response.json()
    return case


async def _advance_cases_clock(system: System, seconds: int) -> None:
    """The cases service's controllable clock (on the service itself, never through the gateway)."""
    async with httpx.AsyncClient(base_url=system.layout.service("cases").url, timeout=10) as cases:
        response = await cases.post(
            "/internal/clock",
            json={"advance_seconds": seconds},
            headers={"X-Internal-Key": DEV_CASES_INTERNAL_KEY},
        )
    assert response.status_code == 200, response.text


def _queue_row(page: Page, number: str) -> Locator:
    return page.get_by_role("row").filter(has=page.get_by_role("link", name=number, exact=True))


async def test_an_agent_takes_a_production_down_case_from_the_queue_and_it_breaches(
    portal: Portal, create_admin: CreateAdmin, browser_system: System
) -> None:
    steps = Steps()
    keyword = f"kw{uuid.uuid4().hex[:8]}"
    admin, agent, customer = (
        new_account("admin"),
        await _confirmed(portal, "agent"),
        await _confirmed(portal, "customer"),
    )
    create_admin(admin.email, admin.display_name, admin.password)
    case = await _open_case(portal, customer, f"Production Down: the shop is offline {keyword}")
    number = case["number"]

    with steps.step("an admin makes a user an agent on the Users page"):
        admin_page = await portal.page()
        await log_in(admin_page, admin)
        await admin_page.get_by_role("link", name="Users").click()
        await expect(admin_page.get_by_role("heading", name="Users")).to_be_visible()
        await admin_page.get_by_role("searchbox", name="Search").fill(agent.email)
        await admin_page.get_by_role("button", name="Search").click()
        row = admin_page.get_by_role("row").filter(has_text=agent.email)
        await expect(row.get_by_text("Customer", exact=True)).to_be_visible()
        await portal.shot(admin_page, "users")
        await row.get_by_role("button", name="Make agent").click()
        await expect(row.get_by_text("Agent", exact=True)).to_be_visible()
        await expect(row.get_by_role("button", name="Remove agent")).to_be_visible()
        await portal.shot(admin_page, "users-made-agent")
        await row.get_by_role("button", name="Disable").click()
        dialog = admin_page.get_by_role("dialog", name="Disable")
        await expect(dialog).to_be_visible()
        await portal.shot(admin_page, "users-disable-confirm")
        await dialog.get_by_role("button", name="Cancel").click()
        await expect(row.get_by_text("Active")).to_be_visible()

    page = await portal.page()
    with steps.step("the agent finds the unassigned Production Down case on the Queue"):
        await log_in(page, agent)
        await expect(page).to_have_url(re.compile(r"/queue$"))  # agents land on the Queue
        await page.get_by_role("link", name="Queue").click()
        await expect(page.get_by_role("heading", name="Queue")).to_be_visible()
        await page.get_by_role("link", name="Unassigned").click()
        await expect(page).to_have_url(re.compile(r"assignee=unassigned"))
        await page.get_by_role("searchbox", name="Search").fill(keyword)
        await page.get_by_role("button", name="Search").click()
        row = _queue_row(page, number)
        await eventually_visible(page, row)
        await expect(row.get_by_text("Prioritised")).to_be_visible()
        await expect(row.get_by_text("Waiting on support")).to_be_visible()
        await expect(row.get_by_text(customer.display_name)).to_be_visible()
        await expect(row.get_by_text(re.compile(r"left$"))).to_be_visible()
        await portal.shot(page, "queue")
        await page.reload()  # the filters are in the URL
        await expect(page.get_by_role("link", name="Unassigned")).to_have_attribute("aria-current", "page")
        await expect(page.get_by_role("searchbox", name="Search")).to_have_value(keyword)

    with steps.step("the agent takes the case, sees the customer and the SLA clocks"):
        await _queue_row(page, number).get_by_role("link", name=number, exact=True).click()
        await expect(page.get_by_role("heading", name=f"Case {number}")).to_be_visible()
        await expect(page.get_by_role("region", name="Customer").get_by_text(customer.email)).to_be_visible()
        await page.get_by_role("button", name="Assign to me").click()
        assignee = page.get_by_role("region", name="Assignee")
        await expect(assignee.get_by_text(agent.display_name, exact=True)).to_be_visible()
        await expect(page.get_by_role("button", name="Unassign")).to_be_visible()
        sla = page.get_by_role("region", name="SLA")
        await expect(sla.get_by_text("First response")).to_be_visible()
        await expect(sla.get_by_text(re.compile(r"left$")).first).to_be_visible()

    with steps.step("the agent replies, notes internally, and marks the case waiting on customer"):
        reply = page.get_by_role("region", name="Add Comment")
        await reply.get_by_role("textbox", name="Comment", exact=True).fill("Please send the web server's error log.")
        await reply.get_by_role("button", name="Save").click()
        comments = page.get_by_role("region", name="Comments")
        await expect(comments.get_by_text("Please send the web server's error log.")).to_be_visible()
        await reply.get_by_role("textbox", name="Comment", exact=True).fill("Probably the load balancer again.")
        await reply.get_by_role("checkbox", name="Internal note").check()
        await reply.get_by_role("button", name="Save").click()
        await expect(comments.get_by_text("Probably the load balancer again.")).to_be_visible()
        await expect(comments.get_by_text(re.compile("not shown to the customer"))).to_be_visible()
        await page.get_by_role("button", name="Waiting on customer").click()
        await expect(page.get_by_role("button", name="Waiting on customer")).to_have_attribute("aria-pressed", "true")
        await expect(sla.get_by_text(re.compile(r"^Paused"))).to_be_visible()
        await portal.shot(page, "case-waiting-on-customer")
        case_url = page.url

    with steps.step("the customer sees the reply, not the note, and answers"):
        customer_page = await portal.page(PHONE)
        await log_in(customer_page, customer)
        await customer_page.goto(case_url)
        await eventually_visible(customer_page, customer_page.get_by_text("Please send the web server's error log."))
        await expect(customer_page.get_by_text("Probably the load balancer again.")).to_have_count(0)
        await expect(customer_page.get_by_role("button", name="Assign to me")).to_have_count(0)
        await expect(customer_page.get_by_role("region", name="SLA")).to_have_count(0)
        box = customer_page.get_by_role("region", name="Add Comment").get_by_role("textbox", name="Comment", exact=True)
        await box.fill("Here is the log: connection refused on port 443.")
        await customer_page.get_by_role("region", name="Add Comment").get_by_role("button", name="Save").click()
        await expect(customer_page.get_by_text("Here is the log: connection refused on port 443.")).to_be_visible()
        await portal.shot(customer_page, "customer-answered-phone")
        await no_horizontal_scroll(customer_page)

    with steps.step("the case is back waiting on support"):
        await eventually_visible(page, page.get_by_text("Here is the log: connection refused on port 443."))
        await expect(page.get_by_role("button", name="Waiting on support")).to_have_attribute("aria-pressed", "true")
        await portal.shot(page, "case-back-to-support")

    with steps.step("a breach shows on the queue when the clock passes the resolution target"):
        await _advance_cases_clock(browser_system, 5 * HOUR)  # severity 1: resolution within 4 h
        await page.goto(f"/queue?sla=breached&q={keyword}")
        row = _queue_row(page, number)
        await eventually_visible(page, row)
        await expect(row.get_by_text("Breached")).to_be_visible()
        await portal.shot(page, "queue-breached")
        await page.get_by_role("link", name=number, exact=True).click()
        await expect(page.get_by_role("region", name="SLA").get_by_text("Breached").first).to_be_visible()
        await portal.shot(page, "case-breached")

    with steps.step("the queue at 375 px"):
        phone = await portal.page(PHONE)
        await log_in(phone, agent)
        await phone.goto(f"/queue?q={keyword}")
        await eventually_visible(phone, phone.get_by_role("link", name=number, exact=True))
        await portal.shot(phone, "queue-phone")
        await no_horizontal_scroll(phone)
        await phone.get_by_role("link", name=number, exact=True).click()
        await expect(phone.get_by_role("heading", name=f"Case {number}")).to_be_visible()
        await portal.shot(phone, "case-agent-phone")
        await no_horizontal_scroll(phone)

    assert portal.serious_findings() == {}
    assert portal.console_errors == []
