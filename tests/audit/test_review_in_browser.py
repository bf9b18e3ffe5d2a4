"""A manager reviews a long audit log in a real Chromium: filter, page, open an event,
download the filtered set. The page fixture fails the test on any CSP or script error."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, Page, expect

from tests.browser import chromium
from tests.browser.chromium import launched_chromium, sign_in
from zoomadmin.audit.log import record
from zoomadmin.audit.models import Action, AuditEvent, Outcome

pytestmark = pytest.mark.browser

# tests/browser's fixtures, for this module: a conftest's fixtures reach only its folder.
page = chromium.page
browser_manager = chromium.browser_manager


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """tests/browser's Chromium, closed with this module unless tests/browser still holds it
    (Playwright's sync API allows one instance at a time: the launch is shared)."""
    with launched_chromium() as shared:
        yield shared


def test_a_manager_reviews_a_long_log_in_the_browser(
    page: Page,
    browser_manager: User,
) -> None:
    for i in range(180):
        record(
            Action.SEARCH,
            actor_username=f"agent{i % 3}",
            outcome=Outcome.SUCCESS,
            target_email=f"user{i}@globex.example",
            reason=f"INC-{i}",
        )
    intent = record(
        Action.FORCE_LOGOUT_REQUESTED, actor_username="agent1", reason="Stolen laptop, INC-7"
    )
    sign_in(page, browser_manager)

    page.get_by_role("link", name="Audit log").click()
    expect(page.locator("#summary-actions")).to_contain_text("Searched Zoom 180")
    expect(page.locator("tr.event")).to_have_count(50)
    page.get_by_role("link", name="Older →").click()
    expect(page.locator("tr.event")).to_have_count(50)
    assert "before=" in page.url

    page.get_by_label("Staff member").fill("agent1")
    page.get_by_label("Reason contains").fill("INC-7")
    page.get_by_role("button", name="Filter").click()
    assert "actor=agent1" in page.url and "reason=INC-7" in page.url
    # agent1 has INC-7, INC-70..79 (the agent1 ones), INC-175 ... and the intent
    expected = AuditEvent.objects.filter(actor_username="agent1", reason__contains="INC-7")
    expect(page.locator("tr.event")).to_have_count(expected.count())
    expect(page.locator(f"#event-{intent.pk}")).to_contain_text("Unknown: no result recorded")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download JSON Lines").click()
    lines = download_info.value.path().read_text(encoding="utf-8").splitlines()
    assert {json.loads(line)["actor_username"] for line in lines} == {"agent1"}
    assert len(lines) == expected.count()

    page.locator(f"#event-{intent.pk}").get_by_role("link", name=str(intent.pk)).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Audit event {intent.pk}")
    expect(page.locator("#hash-check")).to_contain_text("Yes")
    expect(page.locator("#link-check")).to_contain_text("Yes")
    assert AuditEvent.objects.filter(action=Action.EXPORT, actor_username="mo.manager").exists()
