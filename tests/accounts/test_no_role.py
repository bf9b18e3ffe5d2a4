"""Signed in with no role: the page that says so, or, over htmx, the same words in place.

An htmx request from a no-role user comes from a page opened before their role was taken
away: the answer is swapped in where they clicked, so it must be a fragment, not a second
copy of the whole page (header, menu and all) inside the results.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from tests.conftest import signed_in
from tests.flows import HTMX, force_logout_fields, text
from zoomadmin.audit.models import Action, AuditEvent, Outcome
from zoomadmin.zoom.sandbox import SandboxUser, ZoomSandbox

pytestmark = pytest.mark.django_db


def the_refusal(user: User) -> AuditEvent:
    """The one audit row the request wrote, besides signing in: a "no role" refusal of ``user``."""
    row = AuditEvent.objects.exclude(action=Action.SIGN_IN).get()  # force_login's row
    assert (row.action, row.outcome, row.actor) == (Action.DENIED, Outcome.DENIED, user)
    assert row.detail.endswith(": no role")
    return row


def assert_is_a_fragment(body: str) -> None:
    """A refusal to swap in where the user clicked: no page, heading or menu around it."""
    assert "<html" not in body
    assert "<h1" not in body
    assert "<nav" not in body
    assert 'role="alert"' in body


def test_an_htmx_search_from_a_user_with_no_role_gets_a_fragment(
    no_role: User, sandbox: ZoomSandbox
) -> None:
    response = signed_in(no_role).get("/", {"q": "someone@example.com"}, **HTMX)

    assert response.status_code == 403
    body = response.content.decode()
    assert_is_a_fragment(body)
    page = text(response)
    assert "You have no role in zoomadmin." in page
    assert no_role.username in page
    assert "is signed in but belongs to neither Helpdesk nor Managers" in page
    assert "Ask an administrator to add you to the right group" in page
    assert "The refusal was recorded in the audit log." in page
    assert the_refusal(no_role).detail == "GET /: no role"
    assert sandbox.requests == []


def test_an_htmx_force_logout_from_a_user_with_no_role_gets_a_fragment_and_zoom_is_not_called(
    no_role: User, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    response = signed_in(no_role).post("/force-logout/", force_logout_fields(sso_user), **HTMX)

    assert response.status_code == 403
    assert_is_a_fragment(response.content.decode())
    assert "You have no role in zoomadmin." in text(response)
    assert the_refusal(no_role).detail == "POST /force-logout/: no role"
    assert sandbox.requests == []


def test_an_htmx_sync_from_a_user_with_no_role_gets_a_fragment(no_role: User) -> None:
    response = signed_in(no_role).post("/directory/sync/", **HTMX)

    assert response.status_code == 403
    assert_is_a_fragment(response.content.decode())
    assert the_refusal(no_role).detail == "POST /directory/sync/: no role"


def test_without_htmx_a_user_with_no_role_still_gets_the_whole_page(
    no_role: User, sandbox: ZoomSandbox
) -> None:
    response = signed_in(no_role).get("/")

    assert response.status_code == 403
    body = response.content.decode()
    assert "<html" in body
    assert "<h1>You have no role in zoomadmin</h1>" in body
    assert "belongs to neither Helpdesk nor Managers" in text(response)
    assert the_refusal(no_role).detail == "GET /: no role"
