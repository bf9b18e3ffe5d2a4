"""The search page as the agent types: the directory, and Zoom only for exact references."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import signed_in
from tests.directory.helpers import add_directory_user
from tests.flows import HTMX, hidden_value, text
from tests.helpdesk.helpers import api_requests, confirm_form_fields
from zoomadmin.audit.models import Action, AuditEvent
from zoomadmin.directory.models import DirectoryUser, SyncRun
from zoomadmin.directory.sync import run_sync
from zoomadmin.helpdesk.targets import load_target
from zoomadmin.zoom.sandbox import SandboxUser, ZoomSandbox

pytestmark = pytest.mark.django_db
# What the search box sends as the agent types (htmx names the triggering input).
TYPING = {**HTMX, "HTTP_HX_TRIGGER": "id_q", "HTTP_HX_TRIGGER_NAME": "q"}


def lookups(sandbox: ZoomSandbox) -> list[str]:
    return [path for method, path in api_requests(sandbox) if path != "/users"]


@pytest.fixture
def synced(sandbox: ZoomSandbox) -> ZoomSandbox:
    run_sync(trigger=SyncRun.Trigger.COMMAND)
    sandbox.clear_history()
    return sandbox


def typing(client: Client, query: str) -> str:
    response = client.get("/", {"q": query}, **TYPING)
    assert response.status_code == 200, response.content
    return text(response)


def test_a_partial_name_finds_the_user_without_asking_zoom(
    helpdesk_client: Client, synced: ZoomSandbox, sso_user: SandboxUser
) -> None:
    page = typing(helpdesk_client, f"{sso_user.first_name[:3]} {sso_user.last_name[:2]}")

    assert sso_user.email in page
    assert "Force log out of Zoom" in page
    assert api_requests(synced) == []
    assert not AuditEvent.objects.filter(action=Action.SEARCH).exists()


def test_results_show_status_and_that_sso_is_unknown_until_looked_up(
    helpdesk_client: Client, synced: ZoomSandbox, sso_user: SandboxUser
) -> None:
    response = helpdesk_client.get("/", {"q": sso_user.email[:-4]}, **TYPING)

    row = next(line for line in response.content.decode().split("<tr") if sso_user.email in line)
    assert "status-active" in row
    assert ">unknown</span>" in row
    target = load_target(hidden_value(response.content.decode(), "target"))
    assert not target.login_types_known
    assert target.sign_in_methods == "unknown"


def test_typing_towards_an_address_asks_zoom_once_it_is_one_the_directory_knows(
    helpdesk_client: Client, synced: ZoomSandbox, sso_user: SandboxUser
) -> None:
    for end in range(len(sso_user.email) - 6, len(sso_user.email)):
        typing(helpdesk_client, sso_user.email[:end])  # "x@globex.example.c" is an email too
    assert lookups(synced) == []

    page = typing(helpdesk_client, sso_user.email)

    assert lookups(synced) == [f"/users/{sso_user.email}"]
    assert "SSO" in page.replace("Force log out of Zoom", "")


def test_an_exact_email_goes_to_zoom_and_updates_the_directory(
    helpdesk_client: Client, synced: ZoomSandbox, sso_user: SandboxUser
) -> None:
    synced.set_user(sso_user.id, status="inactive")  # changed at Zoom since the sync

    page = typing(helpdesk_client, sso_user.email)

    assert "inactive" in page
    row = DirectoryUser.objects.get(key=sso_user.id)
    assert row.status == "inactive"
    assert row.login_types == list(sso_user.login_types)
    assert row.refreshed_at is not None
    assert AuditEvent.objects.get(action=Action.SEARCH).target_zoom_id == sso_user.id
    # Known now: the next search shows SSO without asking Zoom (for a prefix).
    assert "SSO" in typing(helpdesk_client, sso_user.email[:-3]).replace(
        "Force log out of Zoom", ""
    )


def test_an_exact_zoom_id_goes_to_zoom_and_is_shown_once(
    helpdesk_client: Client, synced: ZoomSandbox, sso_user: SandboxUser
) -> None:
    response = helpdesk_client.get("/", {"q": sso_user.id}, **TYPING)

    assert lookups(synced) == [f"/users/{sso_user.id}"]
    assert response.content.decode().count('class="user-row"') == 1


def test_a_submitted_address_the_directory_does_not_know_is_looked_up(
    helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    # Never synced: Enter (or the Search button) still asks Zoom, as before the directory.
    response = helpdesk_client.get("/", {"q": sso_user.email}, **HTMX)

    assert sso_user.email in text(response)
    assert lookups(sandbox) == [f"/users/{sso_user.email}"]
    assert DirectoryUser.objects.get(key=sso_user.id).login_types == list(sso_user.login_types)


def test_a_user_zoom_no_longer_has_is_marked_gone(
    helpdesk_client: Client, synced: ZoomSandbox, sso_user: SandboxUser, zoom_http: object
) -> None:
    synced.add_fault(endpoint="get_user", status=404)

    page = typing(helpdesk_client, sso_user.email)

    assert "No such Zoom user" in page
    assert DirectoryUser.objects.get(key=sso_user.id).gone_at is not None


def test_when_zoom_fails_the_directory_row_is_shown_as_possibly_stale(
    helpdesk_client: Client, synced: ZoomSandbox, sso_user: SandboxUser
) -> None:
    synced.add_fault(endpoint="get_user", status=503, times=20)

    response = helpdesk_client.get("/", {"q": sso_user.email}, **TYPING)

    assert response.status_code == 200
    page = text(response)
    assert "Could not look up" in page
    assert "Shown from the directory as of its last sync" in page
    assert sso_user.email in page
    assert "Force log out of Zoom" in page


def test_a_directory_result_can_be_forced_out(
    helpdesk_client: Client, synced: ZoomSandbox, sso_user: SandboxUser
) -> None:
    found = helpdesk_client.get("/", {"q": sso_user.last_name}, **TYPING).content.decode()
    row = next(part for part in found.split("<tr") if sso_user.email in part)
    target = hidden_value(row, "target")

    confirm = helpdesk_client.get("/force-logout/confirm/", {"target": target}, **HTMX)
    form = confirm.content.decode()
    assert "Sign-in method unknown." in text(confirm)
    assert "Not an SSO user" not in text(confirm)

    outcome = helpdesk_client.post(
        "/force-logout/", {**confirm_form_fields(form), "reason": "INC-77 phished"}, **HTMX
    )

    assert outcome.status_code == 200
    assert "Forced out of Zoom" in text(outcome)
    assert [r.user_id for r in synced.revocations] == [sso_user.id]
    intent = AuditEvent.objects.get(action=Action.FORCE_LOGOUT_REQUESTED)
    assert intent.detail.endswith("signs in with unknown")


def test_more_than_25_matches_show_25_and_a_count(
    helpdesk_client: Client, sandbox: ZoomSandbox
) -> None:
    for n in range(31):
        add_directory_user(f"sam.{n:02d}@globex.example.com", "Sam", f"Person{n:02d}")

    response = helpdesk_client.get("/", {"q": "sam"}, **TYPING)

    assert response.content.decode().count('class="user-row"') == 25
    assert "And 6 more: type more of the name or email address." in text(response)


def test_the_empty_query_shows_the_agents_own_recent_actions(
    helpdesk: User, manager: User, synced: ZoomSandbox, sso_user: SandboxUser
) -> None:
    agent, other = signed_in(helpdesk), signed_in(manager)
    agent.get("/", {"q": sso_user.email}, **HTMX)  # audited: a Zoom lookup
    other.get("/", {"q": "nobody@globex.example.com"}, **HTMX)

    page = text(agent.get("/", {"q": ""}, **TYPING))

    assert "Your recent actions" in page
    assert sso_user.email in page
    assert "nobody@globex.example.com" not in page
    first_visit = text(agent.get("/"))
    assert "Your recent actions" in first_visit


def test_the_page_says_how_fresh_the_directory_is(
    helpdesk_client: Client, sandbox: ZoomSandbox
) -> None:
    assert "Directory never synced." in text(helpdesk_client.get("/"))

    run_sync(trigger=SyncRun.Trigger.COMMAND)

    page = text(helpdesk_client.get("/"))
    assert f"Directory synced less than a minute ago, {len(sandbox.users)} users." in page
    assert "Sync now" not in page  # a Helpdesk agent cannot start one
