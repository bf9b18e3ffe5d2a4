"""The whole product in a real browser: sign in, search, force out, find it in the audit."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from tests.browser.conftest import confirm, sign_in
from tests.conftest import active_user
from zoomadmin.audit.models import Action, AuditEvent
from zoomadmin.zoom.sandbox import ZoomSandbox

pytestmark = pytest.mark.browser


def search_for(page: Page, email: str) -> None:
    page.get_by_label("Email address or Zoom user ID").fill(email)
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#results")).to_contain_text(email)


def force_out(page: Page, reason: str, *, double_click: bool = False) -> None:
    """From the search result: "Force log out of Zoom", then confirm with ``reason``."""
    page.get_by_role("button", name="Force log out of Zoom").click()
    confirm(page, reason, double_click=double_click)


def test_agent_forces_a_user_out_and_the_manager_finds_it(
    page: Page, http_sandbox: ZoomSandbox, browser_helpdesk: User, browser_manager: User
) -> None:
    target = active_user(http_sandbox, sso=True)
    sign_in(page, browser_helpdesk)
    search_for(page, target.email)
    expect(page).to_have_url(f"{page.url.split('?')[0]}?q={target.email.replace('@', '%40')}")

    force_out(page, "Laptop stolen, INC-1042")

    outcome = page.locator("tr.outcome")
    expect(outcome).to_contain_text("Forced out of Zoom")
    expect(outcome).to_contain_text("HTTP 204")
    assert [r.user_id for r in http_sandbox.revocations] == [target.id]
    assert page.locator("tr.user-row").count() == 0, "the outcome replaced the row"

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{page.url.split('/accounts')[0]}/accounts/login/")
    sign_in(page, browser_manager)
    page.get_by_role("link", name="Audit log").click()
    row = page.locator("tr.action-force_logout_result").first
    expect(row).to_contain_text(target.email)
    expect(row).to_contain_text("Laptop stolen, INC-1042")
    expect(row).to_contain_text("Success")
    expect(row).to_contain_text("hana.helpdesk")


def test_a_zoom_failure_is_shown_where_the_agent_clicked(
    page: Page, http_sandbox: ZoomSandbox, browser_helpdesk: User
) -> None:
    target = active_user(http_sandbox, sso=True)
    sign_in(page, browser_helpdesk)
    search_for(page, target.email)
    http_sandbox.add_fault(endpoint="revoke", status=503, times=50)

    force_out(page, "Incident 9")

    outcome = page.locator("tr.outcome")
    expect(outcome).to_contain_text("Not signed out")
    expect(outcome).to_contain_text("HTTP 503")
    expect(outcome.get_by_role("button", name="Try again: force log out of Zoom")).to_be_visible()

    http_sandbox.clear_faults()
    outcome.get_by_role("button", name="Try again: force log out of Zoom").click()
    confirm(page, "Incident 9, second try")
    expect(page.locator("tr.outcome")).to_contain_text("Forced out of Zoom")
    assert len(http_sandbox.revocations) == 1


def test_a_double_click_sends_one_request_to_zoom(
    page: Page, http_sandbox: ZoomSandbox, browser_helpdesk: User
) -> None:
    target = active_user(http_sandbox, sso=True)
    sign_in(page, browser_helpdesk)
    search_for(page, target.email)
    http_sandbox.add_fault(endpoint="revoke", delay=0.5)  # slow enough to click twice

    force_out(page, "Double click", double_click=True)

    expect(page.locator("tr.outcome")).to_contain_text("Forced out of Zoom")
    deletes = [r for r in http_sandbox.requests if r.method == "DELETE"]
    assert len(deletes) == 1
    assert AuditEvent.objects.filter(action=Action.FORCE_LOGOUT_REQUESTED).count() == 1


def test_a_non_sso_user_is_flagged_before_confirming(
    page: Page, http_sandbox: ZoomSandbox, browser_helpdesk: User
) -> None:
    target = active_user(http_sandbox, sso=False)
    sign_in(page, browser_helpdesk)
    search_for(page, target.email)
    page.get_by_role("button", name="Force log out of Zoom").click()
    expect(page.get_by_text("Not an SSO user.")).to_be_visible()
