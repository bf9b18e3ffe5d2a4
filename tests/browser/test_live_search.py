"""In Chromium: type part of a name, see the user appear, force them out of Zoom."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from tests.browser.conftest import confirm, sign_in
from tests.conftest import active_user
from zoomadmin.audit.models import Action, AuditEvent
from zoomadmin.directory.models import SyncRun
from zoomadmin.directory.sync import run_sync
from zoomadmin.zoom.sandbox import ZoomSandbox

pytestmark = pytest.mark.browser


def test_typing_a_partial_name_finds_the_user_and_forces_them_out(
    page: Page, http_sandbox: ZoomSandbox, browser_helpdesk: User
) -> None:
    assert run_sync(trigger=SyncRun.Trigger.COMMAND).status == SyncRun.Status.SUCCEEDED
    target = active_user(http_sandbox, sso=True)
    http_sandbox.clear_history()
    sign_in(page, browser_helpdesk)
    expect(page.locator("#directory-status")).to_contain_text("Directory synced")

    box = page.get_by_label("Name, email address or Zoom user ID")
    box.press_sequentially(f"{target.first_name[:3]} {target.last_name[:3]}", delay=40)

    page.wait_for_load_state("networkidle")  # every keystroke's answer is in
    row = page.locator("tr.user-row", has_text=target.email)
    expect(row).to_be_visible()
    expect(row).to_contain_text("unknown")  # the directory has no sign-in methods
    assert [r for r in http_sandbox.requests if r.host == "api"] == [], "typing asked Zoom"
    assert "q=" in page.url  # the URL follows the box, so a reload keeps the results

    row.get_by_role("button", name="Force log out of Zoom").click()
    expect(page.get_by_text("Sign-in method unknown.")).to_be_visible()
    confirm(page, "Phished, INC-2077")

    outcome = page.locator("tr.outcome")
    expect(outcome).to_contain_text(f"Forced out of Zoom: {target.name}")
    assert [r.user_id for r in http_sandbox.revocations] == [target.id]
    result = AuditEvent.objects.get(action=Action.FORCE_LOGOUT_RESULT)
    assert (result.target_zoom_id, result.reason) == (target.id, "Phished, INC-2077")


def test_the_whole_email_is_checked_at_zoom_as_it_is_typed(
    page: Page, http_sandbox: ZoomSandbox, browser_helpdesk: User
) -> None:
    run_sync(trigger=SyncRun.Trigger.COMMAND)
    target = active_user(http_sandbox, sso=True)
    http_sandbox.clear_history()
    sign_in(page, browser_helpdesk)

    page.get_by_label("Name, email address or Zoom user ID").press_sequentially(
        target.email, delay=20
    )

    page.wait_for_load_state("networkidle")
    row = page.locator("tr.user-row", has_text=target.email)
    expect(row.locator(".badge.sso")).to_have_text("SSO")
    lookups = [r.path for r in http_sandbox.requests if r.host == "api"]
    assert lookups == [f"/users/{target.email}"]
