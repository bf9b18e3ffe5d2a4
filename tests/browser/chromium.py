"""Real Chromium (Playwright), shared by every test of the process that drives a browser.

A helper module, not tests: tests/browser/conftest.py takes its fixtures from here, and so
can a test module elsewhere (a conftest's fixtures reach only its folder), without
importing a conftest::

    from tests.browser import chromium

    browser = chromium.browser
    page = chromium.page
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.contrib.auth.models import User
from pytest_django.live_server_helper import LiveServer

from tests.conftest import PASSWORD, make_manager

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
    from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright


class _Shared:
    """The one Playwright and Chromium of the process, and how many callers hold them."""

    playwright: Playwright | None = None
    chromium: Browser | None = None
    holders = 0


@contextmanager
def launched_chromium() -> Iterator[Browser]:
    """Chromium, or a skip where it is missing (a failure under ZOOMADMIN_REQUIRE_BROWSER=1).

    Playwright's sync API allows one instance at a time in a process, so the instance is
    shared: a caller who enters while another holds it gets the same Chromium, and the
    last one to leave closes it.
    """
    if not shutil.which(CHROMIUM):
        if os.environ.get("ZOOMADMIN_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium is required but missing at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    if _Shared.chromium is None:
        from playwright.sync_api import sync_playwright

        # Playwright's sync API runs an event loop in this thread; the ORM calls made by
        # the test itself are still plain synchronous code.
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        playwright = sync_playwright().start()
        try:
            _Shared.chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS
            )
        except BaseException:
            playwright.stop()
            raise
        _Shared.playwright = playwright
    _Shared.holders += 1
    try:
        yield _Shared.chromium
    finally:
        _Shared.holders -= 1
        if _Shared.holders == 0:
            chromium, playwright = _Shared.chromium, _Shared.playwright
            _Shared.chromium = _Shared.playwright = None
            chromium.close()
            assert playwright is not None
            playwright.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with launched_chromium() as chromium:
        yield chromium


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


@pytest.fixture
def browser_manager(transactional_db: None) -> User:
    return make_manager()
