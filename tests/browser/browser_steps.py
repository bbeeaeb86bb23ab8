"""What the browser tests do the way a person would: pages, screenshots, axe-core, the links in the mails."""

from __future__ import annotations

import contextlib
import html
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from e2e.e2e_steps import Account, mail_to
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Locator, Page, expect

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
# A logged-out start asks for a session with no cookie: identity answers 401, the portal shows Login.
EXPECTED_FAILED_LOADS = re.compile(r"/api/identity/sessions/refresh$")
SERIOUS = ("serious", "critical")


@dataclass
class Portal:
    """The portal at url, the dev inbox, and the gateway's API (to set up accounts and cases fast)."""

    browser: Browser
    url: str
    shots: Path
    axe_source: str
    inbox: httpx.AsyncClient
    gateway: httpx.AsyncClient
    contexts: list[BrowserContext] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    axe_findings: dict[str, list[str]] = field(default_factory=dict)
    taken: int = 0

    async def page(self, viewport: dict[str, int] | None = None) -> Page:
        """A new browser context (its own cookies: another person) and a page in it."""
        context = await self.browser.new_context(viewport=viewport or DESKTOP, base_url=self.url)  # type: ignore[arg-type]
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = await context.new_page()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"))
        return page

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        where = message.location.get("url", "")
        if message.text.startswith("Failed to load resource") and EXPECTED_FAILED_LOADS.search(where):
            return
        self.console_errors.append(f"{message.text} ({where})")

    async def shot(self, page: Page, name: str, axe: bool = True) -> None:
        """A full-page screenshot, and axe-core's serious and critical findings on this screen."""
        self.taken += 1
        self.shots.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=self.shots / f"{self.taken:02d}-{name}.png", full_page=True)
        if axe:
            self.axe_findings[name] = await self.axe(page)

    async def axe(self, page: Page) -> list[str]:
        # Through the DevTools protocol: the page's CSP (script-src 'self') rightly refuses injected scripts.
        cdp = await page.context.new_cdp_session(page)
        await cdp.send("Runtime.evaluate", {"expression": self.axe_source})
        await cdp.detach()
        result = await page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        return [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]
            if v["impact"] in SERIOUS
        ]

    def serious_findings(self) -> dict[str, list[str]]:
        return {screen: found for screen, found in self.axe_findings.items() if found}

    async def close(self) -> None:
        for context in self.contexts:
            with contextlib.suppress(Exception):
                await context.close()


@dataclass
class Steps:
    """Names the journey's steps, so a failure says which step broke and which ones passed before it."""

    passed: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            raise AssertionError(f"step {name!r} failed (passed before it: {self.passed}): {exc}") from exc
        self.passed.append(name)


async def link_in_mail(inbox: httpx.AsyncClient, address: str, path: str, what: str) -> str:
    """The first link to path (e.g. /confirm-email) in a mail to address, as the person would click it."""
    pattern = re.compile(rf"https?://[^\s\"'<>]+{re.escape(path)}[^\s\"'<>]*")

    def has_link(message: dict[str, Any]) -> bool:
        return True

    mail = await mail_to(inbox, address, has_link, what)
    found = pattern.search(mail["text"] or "") or pattern.search(mail["html"] or "")
    assert found, f"no {path} link in {mail['subject']!r}"
    return html.unescape(found.group(0))


def button_or_link(page: Page | Locator, name: str | re.Pattern[str]) -> Locator:
    """Either is fine to a person; the portal may choose."""
    return page.get_by_role("button", name=name).or_(page.get_by_role("link", name=name))


async def log_in(page: Page, account: Account) -> None:
    await page.goto("/login")
    await page.get_by_label("Email").fill(account.email)
    await page.get_by_label("Password").fill(account.password)
    await page.get_by_role("button", name="Login").click()
    # Customers land on My Cases, agents and admins on the Queue.
    await expect(page.get_by_role("heading", name=re.compile(r"^(My Cases|Queue)$"))).to_be_visible()


async def log_out(page: Page, account: Account) -> None:
    await page.get_by_role("button", name=re.compile(re.escape(account.display_name))).click()
    await page.get_by_role("button", name="Logout").or_(page.get_by_role("menuitem", name="Logout")).click()


async def eventually_visible(page: Page, locator: Locator, within: float = 60) -> None:
    """Wait for something that arrives later (a mail, another person's comment), reloading as a person would."""
    deadline = time.monotonic() + within
    while True:
        try:
            await expect(locator.first).to_be_visible(timeout=3_000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            await page.reload()


async def no_horizontal_scroll(page: Page) -> None:
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    viewport = page.viewport_size
    assert viewport is not None
    assert width <= viewport["width"], f"{page.url}: {width}px wide in a {viewport['width']}px viewport"
