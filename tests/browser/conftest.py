"""Real Chromium (Playwright) against the live server, with the sandbox over real HTTP.

The shared Chromium, the ``browser``, ``page`` and ``browser_manager`` fixtures and
``sign_in`` are in tests/browser/chromium.py, for browser tests outside this folder too;
they are re-exported here for this folder's tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from pytest_django.fixtures import Settings

from tests.browser.chromium import browser as browser
from tests.browser.chromium import browser_manager as browser_manager
from tests.browser.chromium import page as page
from tests.browser.chromium import sign_in as sign_in
from tests.conftest import configured_sandbox, make_helpdesk
from tests.servers import serving
from zoomadmin.zoom.sandbox import ZoomSandbox

if TYPE_CHECKING := False:
    from playwright.sync_api import Page


@pytest.fixture
def http_sandbox(settings: Settings) -> Iterator[ZoomSandbox]:
    """The sandbox behind real HTTP on a free loopback port, as the run command has it."""
    fake = configured_sandbox(user_count=40)
    with serving(fake) as origin:
        settings.ZOOM_API_BASE_URL = f"{origin}/v2"
        settings.ZOOM_OAUTH_BASE_URL = origin
        yield fake


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
