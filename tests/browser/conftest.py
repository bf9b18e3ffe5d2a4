"""Real Chromium (Playwright) against the live server, with the sandbox over real HTTP."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.contrib.auth.models import User
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from tests.conftest import PASSWORD, configured_sandbox, make_helpdesk, make_manager
from tests.zoom.conftest import serving
from zoomadmin.zoom.sandbox import ZoomSandbox

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]

if TYPE_CHECKING := False:
    from playwright.sync_api import Browser, ConsoleMessage, Page


@contextmanager
def launched_chromium() -> Iterator[Browser]:
    """Chromium, or a skip where it is missing (a failure under ZOOMADMIN_REQUIRE_BROWSER=1).

    Playwright's sync API allows one instance at a time in a process: close this one
    before launching another.
    """
    if not shutil.which(CHROMIUM):
        if os.environ.get("ZOOMADMIN_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium is required but missing at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls made by
    # the test itself are still plain synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture
def http_sandbox(settings: Settings) -> Iterator[ZoomSandbox]:
    """The sandbox behind real HTTP on a free loopback port, as the run command has it."""
    fake = configured_sandbox(user_count=40)
    with serving(fake) as origin:
        settings.ZOOM_API_BASE_URL = f"{origin}/v2"
        settings.ZOOM_OAUTH_BASE_URL = origin
        yield fake


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # A 4xx/5xx answer is logged by the browser and by htmx; those are answers the
        # page shows on purpose (a refusal, a Zoom failure). Anything else is a problem.
        expected = (
            "Failed to load resource: the server responded with a status of",
            "Response Status Error Code",
        )
        if "Content Security Policy" in message.text or (
            message.type == "error" and not message.text.startswith(expected)
        ):
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    yield page
    context.close()
    assert problems == [], "the browser reported errors (CSP violations, script errors)"


def sign_in(page: Page, user: User) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


def confirm(page: Page, reason: str, *, double_click: bool = False) -> None:
    """Give the open confirmation form ``reason`` and press its button (twice, if asked)."""
    page.get_by_label("Reason").fill(reason)
    button = page.get_by_role("button", name="Confirm: force log out of Zoom")
    if double_click:
        button.dblclick()
    else:
        button.click()


@pytest.fixture
def browser_helpdesk(transactional_db: None) -> User:
    return make_helpdesk()


@pytest.fixture
def browser_manager(transactional_db: None) -> User:
    return make_manager()
