"""Finding a Zoom user by email or id: fresh from Zoom, audited, nothing odd sent."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.flows import search, text
from tests.helpdesk.helpers import api_requests
from zoomadmin.audit.models import Action, AuditEvent, Outcome
from zoomadmin.zoom.sandbox import SandboxUser, ZoomSandbox

pytestmark = pytest.mark.django_db


def test_search_by_email_shows_name_status_sso_and_last_sign_in(
    helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    response = search(helpdesk_client, sso_user.email)

    assert response.status_code == 200
    page = text(response)
    assert f"{sso_user.first_name} {sso_user.last_name}" in page
    assert sso_user.email in page
    assert "active" in page
    assert "SSO" in page
    assert "Force log out of Zoom" in page
    assert api_requests(sandbox) == [("GET", f"/users/{sso_user.email}")]


def test_search_by_zoom_id(
    helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    response = search(helpdesk_client, sso_user.id)

    assert sso_user.email in text(response)
    assert api_requests(sandbox) == [("GET", f"/users/{sso_user.id}")]


def test_non_sso_user_shows_how_they_sign_in(
    helpdesk_client: Client, sandbox: ZoomSandbox, non_sso_user: SandboxUser
) -> None:
    page = text(search(helpdesk_client, non_sso_user.email))
    assert "SSO" not in page.replace("Force log out of Zoom", "")


def test_search_is_audited_with_what_zoom_said(
    helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    search(helpdesk_client, sso_user.email)

    row = AuditEvent.objects.get(action=Action.SEARCH)
    assert row.outcome == Outcome.SUCCESS
    assert row.actor_username == "hana.helpdesk"
    assert row.target_email == sso_user.email
    assert row.target_zoom_id == sso_user.id
    assert row.zoom_status == 200
    assert row.zoom_tracking_id


def test_a_miss_says_no_such_zoom_user_and_is_audited(
    helpdesk_client: Client, sandbox: ZoomSandbox
) -> None:
    response = search(helpdesk_client, "nobody@globex.example.com")

    assert response.status_code == 200
    assert "No such Zoom user" in text(response)
    row = AuditEvent.objects.get(action=Action.SEARCH)
    assert (row.outcome, row.zoom_status, row.zoom_error_code) == ("not_found", 404, 1001)
    assert row.target_email == "nobody@globex.example.com"


@pytest.mark.parametrize(
    "query",
    ["", "   ", "priya", "priya from finance", "not-an-email@", "a" * 21, "a" * 23],
)
def test_what_is_neither_email_nor_zoom_id_searches_the_directory_and_is_never_sent(
    query: str, helpdesk_client: Client, sandbox: ZoomSandbox
) -> None:
    response = search(helpdesk_client, query)

    # A name or a fragment searches the local directory (empty here); Zoom never sees it.
    assert response.status_code == 200
    assert api_requests(sandbox) == []
    assert not AuditEvent.objects.filter(action=Action.SEARCH).exists()


def test_an_overlong_query_is_refused_and_never_sent(
    helpdesk_client: Client, sandbox: ZoomSandbox
) -> None:
    response = search(helpdesk_client, "x" * 201)

    assert response.status_code == 400
    assert "Type at most 200 characters" in text(response)
    assert api_requests(sandbox) == []


def test_search_page_works_as_a_plain_form(
    helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    response = search(helpdesk_client, sso_user.email, htmx=False)

    body = response.content.decode()
    assert "<html" in body
    assert 'name="q"' in body
    assert sso_user.email in body


def test_htmx_search_swaps_only_the_results(
    helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    body = search(helpdesk_client, sso_user.email).content.decode()
    assert "<html" not in body
    assert "<table" in body


def test_zoom_failure_during_search_is_explained(
    helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    sandbox.add_fault(endpoint="get_user", status=503, times=20)
    response = search(helpdesk_client, sso_user.email)

    assert response.status_code == 502
    assert "Could not look up" in text(response)
    row = AuditEvent.objects.get(action=Action.SEARCH)
    assert (row.outcome, row.zoom_status) == ("failed", 503)


def test_search_results_are_not_cached(
    helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    assert "no-store" in search(helpdesk_client, sso_user.email)["Cache-Control"]
