"""The customer portal in a real Chromium against the whole system, found by its visible names (PORTAL.md)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from browser.browser_steps import (
    PHONE,
    Portal,
    Steps,
    button_or_link,
    eventually_visible,
    link_in_mail,
    log_in,
    log_out,
    no_horizontal_scroll,
)
from e2e.e2e_steps import Account, CreateAdmin, bearer, new_account, sign_up_and_confirm
from e2e.e2e_steps import log_in as api_log_in
from playwright.async_api import Page, expect

from casefold_local.portal import CONTENT_SECURITY_POLICY

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.integration, pytest.mark.timeout(300)]
MIB = 1024 * 1024


def _file(name: str, content: bytes, mime: str = "text/plain") -> dict[str, Any]:
    return {"name": name, "mimeType": mime, "buffer": content}


async def _customer(portal: Portal) -> Account:
    """An account signed up and confirmed through the API (the journey test does it in the browser)."""
    account = new_account("customer")
    await sign_up_and_confirm(portal.gateway, portal.inbox, account)
    await api_log_in(portal.gateway, account)
    return account


async def _open_case(portal: Portal, account: Account, subject: str) -> dict[str, Any]:
    products = (await portal.gateway.get("/api/cases/products", headers=account.auth)).json()
    response = await portal.gateway.post(
        "/api/cases",
        json={"product": products[0]["id"], "subject": subject, "description": "Set up by the test.", "severity": 3},
        headers={**account.auth, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.text
    case: dict[str, Any] = response.json()
    return case


async def _agent(portal: Portal, create_admin: CreateAdmin) -> Account:
    """An agent: a user whom an admin (made with `identity create-admin`) granted the agent role."""
    agent, admin = new_account("agent"), new_account("admin")
    await sign_up_and_confirm(portal.gateway, portal.inbox, agent)
    create_admin(admin.email, admin.display_name, admin.password)
    await api_log_in(portal.gateway, admin)
    granted = await portal.gateway.post(
        f"/api/identity/users/{agent.id}/roles", json={"role": "agent"}, headers=admin.auth
    )
    assert granted.status_code in (200, 201, 204), granted.text
    return agent


async def test_the_portal_loads_at_the_root_with_its_security_headers(portal: Portal) -> None:
    page = await portal.page()

    response = await page.goto("/")

    assert response is not None
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    await expect(page.get_by_role("link", name="Login")).to_be_visible()
    await portal.shot(page, "start")
    deep = await page.goto(f"/cases/{uuid.uuid4()}")
    assert deep is not None
    assert deep.status == 200
    assert deep.headers["content-type"].startswith("text/html")
    await expect(page.get_by_role("heading", name="Login")).to_be_visible()  # a private page asks to log in
    await portal.shot(page, "deep-link-logged-out")
    assert portal.console_errors == []


async def test_a_customer_signs_up_opens_discusses_and_closes_a_case(portal: Portal, create_admin: CreateAdmin) -> None:
    steps = Steps()
    customer = new_account("customer")
    keyword = f"kw{uuid.uuid4().hex[:8]}"
    subject = f"Production Down: checkout fails {keyword}"
    page = await portal.page()

    with steps.step("sign up"):
        await page.goto("/")
        await page.get_by_role("link", name="Sign Up").first.click()
        await page.get_by_label("Email").fill(customer.email)
        await page.get_by_label("Password").fill(customer.password)
        await page.get_by_label("Display name").fill(customer.display_name)
        await page.get_by_role("checkbox", name=re.compile("Terms")).check()
        await portal.shot(page, "sign-up")
        await page.get_by_role("button", name="Sign Up").click()
        await expect(page.get_by_role("heading", name=re.compile("check your email", re.I))).to_be_visible()
        await expect(page.get_by_role("button", name="Resend")).to_be_visible()
        await portal.shot(page, "check-email")

    with steps.step("open the confirmation link from the inbox"):
        link = await link_in_mail(portal.inbox, customer.email, "/confirm-email", "the confirmation mail")
        assert link.startswith(portal.url + "/confirm-email?token="), link
        await page.goto(link)
        await expect(page.get_by_text(re.compile("confirmed", re.I)).first).to_be_visible()
        await portal.shot(page, "email-confirmed")
        await page.get_by_role("main").get_by_role("link", name="Login").click()

    with steps.step("log in"):
        await page.get_by_label("Email").fill(customer.email)
        await page.get_by_label("Password").fill(customer.password)
        await page.get_by_role("button", name="Login").click()
        await expect(page.get_by_role("heading", name="My Cases")).to_be_visible()
        await expect(page.get_by_role("button", name=re.compile(re.escape(customer.display_name)))).to_be_visible()
        await portal.shot(page, "my-cases-empty")

    with steps.step("create a Production Down case with two attachments"):
        await button_or_link(page, "Create Case").first.click()
        await expect(page.get_by_text("Production Down").first).to_be_visible()  # the note about prioritising
        product = page.get_by_label("Product")
        await expect(product.locator("option").nth(1)).to_be_attached()
        await product.select_option(index=1)
        await page.get_by_label("Subject").fill(subject)
        await page.get_by_label("Description").fill("Every payment fails since 09:00.")
        await page.get_by_role("group", name="Severity").get_by_role("radio").first.check()
        await page.get_by_label("Attachments").set_input_files(
            [_file("error.log", b"Traceback: checkout failed\n" * 20), _file("config.json", b'{"retries": 3}')]
        )
        await expect(page.get_by_text("config.json").first).to_be_visible()
        await portal.shot(page, "create-case")
        await page.get_by_role("button", name="Submit").click()
        heading = page.get_by_role("heading", name=re.compile(r"^Case \d+$"))
        await expect(heading).to_be_visible()
        number = (await heading.inner_text()).split()[-1]
        case_url = page.url
        await expect(page.get_by_text("Prioritised").first).to_be_visible()
        await expect(page.get_by_role("link", name=re.compile("error.log"))).to_be_visible()
        await expect(page.get_by_role("link", name=re.compile("config.json"))).to_be_visible()
        await portal.shot(page, "case-opened")

    with steps.step("the acknowledgement appears in the Activity History and opens"):
        history = page.get_by_role("region", name="Activity History")
        await eventually_visible(page, history.get_by_role("link", name=re.compile(number)))
        await history.get_by_role("link", name=re.compile(number)).first.click()
        await expect(page.get_by_role("heading", name=re.compile(number))).to_be_visible()
        await portal.shot(page, "acknowledgement")
        await page.get_by_role("link", name="Back").click()
        await expect(page.get_by_role("heading", name=f"Case {number}")).to_be_visible()

    with steps.step("comment"):
        add_comment = page.get_by_role("region", name="Add Comment")
        await add_comment.get_by_role("textbox", name="Comment", exact=True).fill("Still failing after a restart.")
        await add_comment.get_by_role("button", name="Save").click()
        comments = page.get_by_role("region", name="Comments")
        await expect(comments.get_by_text("Still failing after a restart.")).to_be_visible()
        await expect(comments.get_by_text(customer.display_name).first).to_be_visible()

    with steps.step("add an attachment later"):
        add_attachment = page.get_by_role("region", name="Add Attachment")
        await add_attachment.locator("input[type=file]").set_input_files([_file("later.txt", b"more logs\n")])
        await add_attachment.get_by_role("button", name="Save").click()
        await expect(page.get_by_role("link", name=re.compile("later.txt"))).to_be_visible()
        await portal.shot(page, "case-with-comment-and-attachment")

    with steps.step("an agent replies in a second browser context"):
        agent = await _agent(portal, create_admin)
        agent_page = await portal.page()
        await log_in(agent_page, agent)
        await agent_page.goto(case_url)
        await expect(agent_page.get_by_role("heading", name=f"Case {number}")).to_be_visible()
        reply = agent_page.get_by_role("region", name="Add Comment")
        await reply.get_by_role("textbox", name="Comment", exact=True).fill(
            "We restarted the payment gateway; please retry."
        )
        await reply.get_by_role("button", name="Save").click()
        await expect(agent_page.get_by_text("We restarted the payment gateway; please retry.")).to_be_visible()
        await portal.shot(agent_page, "agent-replied")

    with steps.step("the customer sees the reply"):
        await eventually_visible(page, page.get_by_text("We restarted the payment gateway; please retry."))
        await expect(page.get_by_role("region", name="Comments").get_by_text(agent.display_name).first).to_be_visible()

    with steps.step("close the case (confirmed)"):
        await page.get_by_role("button", name="Close Case").click()
        dialog = page.get_by_role("dialog")
        await expect(dialog.get_by_text(re.compile("cannot be reopened", re.I))).to_be_visible()
        await portal.shot(page, "close-case-confirm")
        await dialog.get_by_role("button", name="Close Case").click()
        await expect(page.get_by_text("Closed").first).to_be_visible()
        await expect(page.get_by_role("textbox", name="Comment", exact=True)).to_have_count(0)
        await expect(button_or_link(page, "Create a new case").first).to_be_visible()
        await portal.shot(page, "case-closed")

    with steps.step("log out, and Back shows no private page"):
        await log_out(page, customer)
        await expect(page.get_by_role("heading", name="Login")).to_be_visible()
        await page.go_back()
        await expect(page.get_by_role("heading", name="Login")).to_be_visible()
        await expect(page.get_by_role("heading", name=f"Case {number}")).to_have_count(0)
        await expect(page.get_by_text("Still failing after a restart.")).to_have_count(0)
        await portal.shot(page, "after-logout-back")

    assert portal.serious_findings() == {}


async def test_filters_and_search_survive_reload_and_back(portal: Portal) -> None:
    customer = await _customer(portal)
    keyword = f"kw{uuid.uuid4().hex[:8]}"
    open_case = await _open_case(portal, customer, f"Disk full on node {keyword}")
    closed_case = await _open_case(portal, customer, "Licence renewal question")
    closed = await portal.gateway.post(f"/api/cases/{closed_case['id']}/close", headers=customer.auth)
    assert closed.status_code in (200, 204), closed.text
    page = await portal.page()
    await log_in(page, customer)
    rows = page.get_by_role("table").get_by_role("row")

    await button_or_link(page, re.compile(r"^Open")).first.click()
    await expect(page).to_have_url(re.compile(r"status=open"))
    await expect(rows.filter(has_text="Licence renewal question")).to_have_count(0)
    await page.reload()
    await expect(page).to_have_url(re.compile(r"status=open"))
    await expect(rows.filter(has_text=f"Disk full on node {keyword}")).to_have_count(1)
    await expect(rows.filter(has_text="Licence renewal question")).to_have_count(0)

    await button_or_link(page, re.compile(r"^All")).first.click()
    await page.get_by_role("searchbox", name="Search").or_(page.get_by_label("Search")).first.fill(keyword)
    await page.get_by_role("button", name="Search").click()
    await expect(page).to_have_url(re.compile(rf"q={keyword}"))
    await page.reload()
    await expect(page.get_by_label("Search").first).to_have_value(keyword)
    await expect(rows.filter(has_text=f"Disk full on node {keyword}")).to_have_count(1)
    await expect(rows.filter(has_text="Licence renewal question")).to_have_count(0)
    await portal.shot(page, "my-cases-searched")

    await page.go_back()
    await expect(page).not_to_have_url(re.compile(rf"q={keyword}"))
    await page.go_back()
    await expect(page).to_have_url(re.compile(r"status=open"))
    await expect(rows.filter(has_text="Licence renewal question")).to_have_count(0)
    await expect(page.get_by_role("link", name=str(open_case["number"]))).to_be_visible()


async def test_a_wrong_password_says_so(portal: Portal) -> None:
    customer = await _customer(portal)
    page = await portal.page()
    await page.goto("/login")

    await page.get_by_label("Email").fill(customer.email)
    await page.get_by_label("Password").fill("not the password at all")
    await page.get_by_role("button", name="Login").click()

    await expect(page.get_by_role("alert").first).to_contain_text(re.compile("password", re.I))
    await expect(page.get_by_label("Email")).to_have_value(customer.email)  # nothing typed is lost
    await portal.shot(page, "wrong-password")


async def test_a_taken_display_name_is_said_next_to_the_field(portal: Portal) -> None:
    existing = await _customer(portal)
    page = await portal.page()
    await page.goto("/signup")

    await page.get_by_label("Email").fill(f"other-{uuid.uuid4().hex[:8]}@example.com")
    await page.get_by_label("Password").fill("Correct horse battery staple 42!")
    await page.get_by_label("Display name").fill(existing.display_name)
    await page.get_by_role("checkbox", name=re.compile("Terms")).check()
    await page.get_by_role("button", name="Sign Up").click()

    await expect(page.get_by_label("Display name")).to_have_accessible_description(re.compile("taken|already", re.I))
    await portal.shot(page, "display-name-taken")


async def test_a_too_large_file_and_a_refused_file_type_each_say_why(portal: Portal, tmp_path: Path) -> None:
    customer = await _customer(portal)
    page = await portal.page()
    await log_in(page, customer)
    await page.goto("/cases/new")
    chooser = page.get_by_label("Attachments")

    huge = tmp_path / "huge.log"  # from disk: a 25 MiB buffer would crawl through the DevTools protocol
    huge.write_bytes(b"line of a very long log\n" * (25 * MIB // 24 + 1))
    await chooser.set_input_files(huge)
    await expect(
        page.get_by_text(re.compile(r"too large|larger than|exceeds|at most|25 MB|25 MiB", re.I)).first
    ).to_be_visible()
    await portal.shot(page, "file-too-large")
    await chooser.set_input_files([_file("setup.exe", b"MZ\x90\x00" + b"\x00" * 200, "application/x-msdownload")])
    await expect(
        page.get_by_text(re.compile(r"not allowed|refused|type|cannot be attached", re.I)).first
    ).to_be_visible()
    await portal.shot(page, "file-type-refused")


async def test_another_customers_case_is_not_found(portal: Portal) -> None:
    owner, other = await _customer(portal), await _customer(portal)
    case = await _open_case(portal, owner, "Private to its owner")
    page = await portal.page()
    await log_in(page, other)

    await page.goto(f"/cases/{case['id']}")

    await expect(page.get_by_text(re.compile("not found", re.I)).first).to_be_visible()
    await expect(page.get_by_text("Private to its owner")).to_have_count(0)
    await portal.shot(page, "someone-elses-case")


async def _screens(portal: Portal, page: Page, customer: Account, case: dict[str, Any], prefix: str) -> None:
    """Every screen a customer meets, each screenshotted (and checked by axe-core)."""
    for path, name in (("/login", "login"), ("/signup", "sign-up"), ("/forgot-password", "forgot-password"),
                       ("/terms", "terms"), ("/confirm-email?token=not-a-token", "confirm-email-invalid"),
                       ("/reset-password?token=not-a-token", "reset-password")):  # fmt: skip
        await page.goto(path)
        await expect(page.get_by_role("heading").first).to_be_visible()
        await _shot(portal, page, f"{prefix}-{name}")
    await log_in(page, customer)
    await expect(page.get_by_role("link", name=str(case["number"]))).to_be_visible()
    await _shot(portal, page, f"{prefix}-my-cases")
    for path, name, heading in (("/cases/new", "create-case", "Create Case"),
                                (f"/cases/{case['id']}", "case", f"Case {case['number']}"),
                                ("/settings", "settings", "Settings")):  # fmt: skip
        await page.goto(path)
        await expect(page.get_by_role("heading", name=heading)).to_be_visible()
        await _shot(portal, page, f"{prefix}-{name}")


async def _shot(portal: Portal, page: Page, name: str) -> None:
    await portal.shot(page, name)
    if page.viewport_size == PHONE:
        await no_horizontal_scroll(page)


async def test_no_screen_has_a_serious_or_critical_axe_finding(portal: Portal) -> None:
    customer = await _customer(portal)
    case = await _open_case(portal, customer, "Accessibility pass")
    page = await portal.page()

    await _screens(portal, page, customer, case, "desktop")

    assert portal.serious_findings() == {}


async def test_every_screen_works_375_px_wide(portal: Portal) -> None:
    customer = await _customer(portal)
    case = await _open_case(portal, customer, "A narrow screen")
    page = await portal.page(PHONE)

    await _screens(portal, page, customer, case, "phone")

    assert portal.serious_findings() == {}


async def test_the_api_through_the_same_origin_is_unchanged(portal: Portal) -> None:
    customer = await _customer(portal)

    listed = await portal.gateway.get("/api/cases", headers=bearer(customer.access_token))
    unknown = await portal.gateway.get("/api/nothing-here", headers=bearer(customer.access_token))

    assert listed.status_code == 200
    assert listed.headers["content-type"].startswith("application/json")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert isinstance(unknown.json()["error_id"], str)


async def _tab_to(page: Page, target: Any, most: int = 80) -> None:
    """Press Tab until the target has the focus, as a keyboard user moves through the page."""
    for _ in range(most):
        if await target.evaluate("el => el === document.activeElement"):
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"{target} never got the focus with Tab")


async def test_the_whole_case_journey_works_with_the_keyboard_alone(portal: Portal) -> None:
    customer = await _customer(portal)
    page = await portal.page()
    steps = Steps()
    await page.goto("/")

    with steps.step("Login from the header"):
        await _tab_to(page, page.get_by_role("link", name="Login").first)
        await page.keyboard.press("Enter")
        await _tab_to(page, page.get_by_label("Email"))
        await page.keyboard.type(customer.email)
        await _tab_to(page, page.get_by_label("Password"))
        await page.keyboard.type(customer.password)
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("heading", name="My Cases")).to_be_visible()
    with steps.step("Create Case"):
        await _tab_to(page, button_or_link(page, "Create Case"))
        await page.keyboard.press("Enter")
        await _tab_to(page, page.get_by_role("button", name="Submit"))
        await page.keyboard.press("Enter")  # nothing chosen yet: the product is asked for, no request is sent
        product = page.get_by_label("Product")
        await expect(page.get_by_text("Choose the product the case is about.")).to_be_visible()
        await expect(product).to_be_focused()
        await page.keyboard.type("Casefold C")  # type-ahead picks "Casefold Cloud", as on any select
        await expect(product).not_to_have_value("")
        await _tab_to(page, page.get_by_label("Subject"))
        await page.keyboard.type("Keyboard only: exports stall")
        await _tab_to(page, page.get_by_label("Description"))
        await page.keyboard.type("Typed without a mouse.")
        # Tab enters the radio group on its checked option; the arrow keys move within it.
        checked = page.get_by_role("radio", checked=True)
        await _tab_to(page, checked if await checked.count() else page.get_by_role("radio").first)
        major = page.get_by_role("radio", name=re.compile("Major"))
        for _ in range(3):
            if await major.is_checked():
                break
            await page.keyboard.press("ArrowDown")
        await expect(major).to_be_checked()
        await _tab_to(page, page.get_by_role("button", name="Submit"))
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("heading", name=re.compile(r"Case \d+"))).to_be_visible()
    await portal.shot(page, "keyboard-case-opened", axe=False)
    with steps.step("Add Comment"):
        await _tab_to(page, page.get_by_label("Comment", exact=True))
        await page.keyboard.type("Still stalling at 80%.")
        await page.keyboard.press("Tab")
        comment_form = page.get_by_role("region", name="Add Comment")
        await _tab_to(page, comment_form.get_by_role("button", name="Save"))
        await page.keyboard.press("Enter")
        await expect(page.get_by_text("Still stalling at 80%.")).to_be_visible()
    with steps.step("Close Case, confirmed in the dialog"):
        await _tab_to(page, page.get_by_role("button", name="Close Case"))
        await page.keyboard.press("Enter")
        dialog = page.get_by_role("dialog")
        await expect(dialog).to_be_visible()
        await _tab_to(page, dialog.get_by_role("button", name="Close Case"))
        await page.keyboard.press("Enter")
        await expect(page.get_by_text("Closed").first).to_be_visible()
        await expect(page.get_by_label("Comment", exact=True)).to_have_count(0)
    await portal.shot(page, "keyboard-case-closed", axe=False)
