"""One system with the portal, one Chromium, for the whole browser-test session.

The portal is built by the same function as `make run` (portal_build.build): from ./portal, or from
$CASEFOLD_PORTAL_DIR (copied into .casefold/browser-portal first, so a build never writes in somebody's checkout).
Chromium is Debian's (Playwright cannot download its own here); a missing one fails loudly, never skips.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from browser.browser_steps import Portal
from e2e.e2e_steps import CreateAdmin
from e2e.e2e_system import admin_creator, private_layout, running_system
from playwright.async_api import Browser, async_playwright, expect

from casefold_local.errors import InfraError
from casefold_local.portal_build import build, mirror, npm_ci
from casefold_local.procs import free_port
from casefold_local.system import System

REPO = Path(__file__).resolve().parents[2]
STATE = REPO / ".casefold"
SCREENSHOTS = STATE / "screenshots"
CHROMIUM = Path(os.environ.get("CASEFOLD_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip


# The machines are shared and slow at times: a person waits ten seconds before calling something broken.
expect.set_options(timeout=10_000)


def _report(line: str) -> None:
    print(line, file=sys.stderr)


@pytest.fixture(scope="session")
def portal_dist() -> Path:
    """The built portal: ./portal in place (make run's stamps), or a copy of $CASEFOLD_PORTAL_DIR."""
    source = Path(os.environ.get("CASEFOLD_PORTAL_DIR", REPO / "portal")).resolve()
    if not (source / "package.json").is_file():
        pytest.fail(f"no portal to test at {source} (no package.json); set CASEFOLD_PORTAL_DIR to one")
    if source == (REPO / "portal").resolve():
        work, stamps = source, STATE / "portal"
    else:
        work, stamps = mirror(source, STATE / "browser-portal" / "src"), STATE / "browser-portal" / "stamps"
    try:
        built = build(work, stamps, report=_report)
    except InfraError as exc:
        pytest.fail(str(exc))
    assert built is not None
    return built.dist


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe.min.js from the npm package axe-core, pinned in tests/browser/package-lock.json."""
    here = REPO / "tests" / "browser"
    try:
        npm_ci(here, STATE / "browser-npm", report=_report)
    except InfraError as exc:
        pytest.fail(str(exc))
    return (here / "node_modules" / "axe-core" / "axe.min.js").read_text()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser_system(
    postgres_admin_dsn: str, kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory, portal_dist: Path
) -> AsyncIterator[System]:
    layout = private_layout(
        postgres_admin_dsn, kafka_bootstrap, tmp_path_factory.mktemp("browser-system"), "browser",
        portal_dist=portal_dist, portal_port=free_port(), gateway_login_burst=200,
        # The cases service reads "now" from a clock the agent-workspace test moves (POST /internal/clock) to see
        # a breach without waiting hours; only this system's processes get the setting.
        extra_env=(("CASES_CONTROLLABLE_CLOCK", "true"),),
    )  # fmt: skip
    async with running_system(layout) as system:
        assert system.serves_portal
        yield system


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():  # noqa: ASYNC240 - once per session, before anything runs
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: install it with `apt-get update && apt-get install -y chromium` "
            "(make test does), or point CASEFOLD_CHROMIUM at one"
        )
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest_asyncio.fixture(loop_scope="session")
async def portal(
    browser: Browser, browser_system: System, axe_source: str, request: pytest.FixtureRequest
) -> AsyncIterator[Portal]:
    """The portal for one test: browser contexts, screenshots in .casefold/screenshots/<test>/, the inbox."""
    shots = SCREENSHOTS / request.node.name.replace("/", "_")
    shutil.rmtree(shots, ignore_errors=True)
    async with (
        httpx.AsyncClient(base_url=browser_system.layout.mail_url, timeout=10) as inbox,
        httpx.AsyncClient(base_url=browser_system.layout.gateway_url, timeout=30) as gateway,
    ):
        opened = Portal(browser, browser_system.layout.gateway_url, shots, axe_source, inbox, gateway)
        try:
            yield opened
        finally:
            await opened.close()


@pytest.fixture(scope="session")
def create_admin(browser_system: System) -> CreateAdmin:
    return admin_creator(browser_system)
