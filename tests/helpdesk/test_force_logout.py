"""Force log out of Zoom: what Zoom receives, what the agent sees, what the audit keeps."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import responses
from django.contrib.auth.models import User
from django.db import DatabaseError
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.flows import (
    HTMX,
    Response,
    force_logout,
    hidden_value,
    open_confirm_form,
    text,
    zoom_deletes,
)
from tests.helpdesk.helpers import confirm_form_fields
from zoomadmin.audit.models import Action, AuditEvent, Outcome
from zoomadmin.zoom.sandbox import SandboxUser, ZoomSandbox

pytestmark = pytest.mark.django_db


def intent_and_result() -> tuple[AuditEvent, AuditEvent]:
    intent = AuditEvent.objects.get(action=Action.FORCE_LOGOUT_REQUESTED)
    result = AuditEvent.objects.get(action=Action.FORCE_LOGOUT_RESULT)
    return intent, result


def force_logout_when_revoke_fails(
    client: Client,
    sandbox: ZoomSandbox,
    user: SandboxUser,
    *,
    reason: str = "Incident",
    **fault: Any,
) -> Response:
    """Open the confirm form, make Zoom's revoke fail as ``fault`` says, then confirm."""
    fields = open_confirm_form(client, user)
    sandbox.add_fault(endpoint="revoke", **fault)
    return client.post("/force-logout/", {**fields, "reason": reason}, **HTMX)


def test_force_logout_sends_exactly_one_revoke_to_the_token_path(
    helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    response = force_logout(helpdesk_client, sso_user)

    assert response.status_code == 200
    deletes = zoom_deletes(sandbox)
    assert [(r.method, r.path) for r in deletes] == [("DELETE", f"/users/{sso_user.id}/token")]
    assert deletes[0].endpoint == "revoke"
    assert [r.user_id for r in sandbox.revocations] == [sso_user.id]
    # DELETE /users/{id} would delete the Zoom account: it is never sent.
    assert not [r for r in sandbox.requests if r.endpoint == "delete_user"]


def test_force_logout_shows_the_outcome_in_place_of_the_row(
    helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    response = force_logout(helpdesk_client, sso_user)

    body = response.content.decode()
    assert body.lstrip().startswith("<tr"), "the fragment replaces the user's row"
    assert "Forced out of Zoom" in text(response)
    assert sso_user.email in text(response)
    assert "HTTP 204" in text(response)
    assert "no-store" in response["Cache-Control"]


def test_force_logout_records_intent_then_result_with_reason_and_tracking_id(
    helpdesk: User, helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    force_logout(helpdesk_client, sso_user, reason="Phished account, INC-7")

    intent, result = intent_and_result()
    assert intent.id < result.id
    assert result.intent_id == intent.id
    for row in (intent, result):
        assert row.actor == helpdesk
        assert row.actor_username == "hana.helpdesk"
        assert row.target_zoom_id == sso_user.id
        assert row.target_email == sso_user.email
        assert row.reason == "Phished account, INC-7"
        assert row.client_ip == "127.0.0.1"
        assert row.request_id
    assert intent.outcome == Outcome.NONE
    assert intent.submission_id is not None
    assert result.outcome == Outcome.SUCCESS
    assert result.zoom_status == 204
    assert result.zoom_tracking_id == sandbox.requests[-1].headers.get(
        "x-zm-trackingid", result.zoom_tracking_id
    )
    assert result.zoom_tracking_id.startswith("v=2.0;")


def test_intent_is_committed_before_zoom_is_called(
    helpdesk_client: Client,
    sandbox: ZoomSandbox,
    sso_user: SandboxUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from zoomadmin.zoom import client as zoom_client

    seen: list[int] = []
    real_revoke = zoom_client.revoke_sso_token

    def spying_revoke(user_id: str) -> zoom_client.ZoomAnswer:
        seen.append(AuditEvent.objects.filter(action=Action.FORCE_LOGOUT_REQUESTED).count())
        return real_revoke(user_id)

    monkeypatch.setattr(zoom_client, "revoke_sso_token", spying_revoke)
    force_logout(helpdesk_client, sso_user)

    assert seen == [1]


def test_double_submit_sends_one_request_to_zoom(
    helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    fields = open_confirm_form(helpdesk_client, sso_user)
    data = {**fields, "reason": "Stolen laptop"}
    first = helpdesk_client.post("/force-logout/", data, **HTMX)
    second = helpdesk_client.post("/force-logout/", data, **HTMX)

    assert first.status_code == second.status_code == 200
    assert len(zoom_deletes(sandbox)) == 1
    assert "Forced out of Zoom" in text(second)
    assert AuditEvent.objects.filter(action=Action.FORCE_LOGOUT_REQUESTED).count() == 1
    assert AuditEvent.objects.filter(action=Action.FORCE_LOGOUT_RESULT).count() == 1


def test_each_confirm_form_is_a_new_submission(
    helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    first = open_confirm_form(helpdesk_client, sso_user)
    second = open_confirm_form(helpdesk_client, sso_user)
    assert first["submission_id"] != second["submission_id"]


def test_non_sso_user_carries_a_warning_before_confirming(
    helpdesk_client: Client, sandbox: ZoomSandbox, non_sso_user: SandboxUser, sso_user: SandboxUser
) -> None:
    for user, warned in ((non_sso_user, True), (sso_user, False)):
        found = helpdesk_client.get("/", {"q": user.email}, **HTMX)
        target = hidden_value(found.content.decode(), "target")
        form = helpdesk_client.get("/force-logout/confirm/", {"target": target}, **HTMX)
        assert ("Not an SSO user" in text(form)) is warned
        assert ("may not sign them out" in text(form)) is warned


def test_reason_is_required_and_nothing_is_sent(
    helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    response = force_logout(helpdesk_client, sso_user, reason="   ")

    assert response.status_code == 400
    assert "Give a reason" in text(response)
    assert zoom_deletes(sandbox) == []
    assert not AuditEvent.objects.filter(action=Action.FORCE_LOGOUT_REQUESTED).exists()


def test_overlong_reason_is_refused(
    helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    response = force_logout(helpdesk_client, sso_user, reason="x" * 501)

    assert response.status_code == 400
    assert "under 500 characters" in text(response)
    assert zoom_deletes(sandbox) == []


def test_zoom_404_is_reported_and_audited_as_not_found(
    helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    response = force_logout_when_revoke_fails(
        helpdesk_client,
        sandbox,
        sso_user,
        reason="Leaver",
        status=404,
        code=1001,
        message="User does not exist.",
    )

    assert response.status_code == 502
    assert "Zoom has no such user" in text(response)
    assert "trying again will not help" in text(response)
    assert "Try again" not in text(response)
    _, result = intent_and_result()
    assert (result.outcome, result.zoom_status, result.zoom_error_code) == ("not_found", 404, 1001)
    assert result.zoom_message == "User does not exist."
    assert result.zoom_tracking_id
    assert len(zoom_deletes(sandbox)) == 1, "a 404 is final: not retried"


def test_zoom_429_says_wait_and_retry(
    helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    response = force_logout_when_revoke_fails(
        helpdesk_client, sandbox, sso_user, status=429, times=20
    )

    assert response.status_code == 502
    assert "rate limit" in text(response)
    assert "Try again" in text(response)
    _, result = intent_and_result()
    assert (result.outcome, result.zoom_status, result.zoom_error_code) == ("failed", 429, 429)
    assert sandbox.revocations == []


@pytest.mark.parametrize("status", [500, 502, 503])
def test_zoom_server_error_is_a_failure_that_can_be_retried(
    status: int, helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    response = force_logout_when_revoke_fails(
        helpdesk_client, sandbox, sso_user, status=status, times=20
    )

    assert response.status_code == 502
    assert f"HTTP {status}" in text(response)
    assert "safe to try again" in text(response)
    _, result = intent_and_result()
    assert (result.outcome, result.zoom_status) == ("failed", status)


def test_read_timeout_leaves_the_outcome_unknown(
    helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    response = force_logout_when_revoke_fails(
        helpdesk_client, sandbox, sso_user, delay=60, times=20
    )

    assert response.status_code == 502
    assert "Outcome unknown" in text(response)
    assert "may or may not have acted" in text(response)
    _, result = intent_and_result()
    assert result.outcome == Outcome.UNKNOWN
    assert result.zoom_status is None


def test_connection_reset_leaves_the_outcome_unknown(
    helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    response = force_logout_when_revoke_fails(
        helpdesk_client, sandbox, sso_user, reset=True, times=20
    )

    assert "Outcome unknown" in text(response)
    _, result = intent_and_result()
    assert result.outcome == Outcome.UNKNOWN


def test_connection_refused_is_a_failure_nothing_was_sent(
    helpdesk_client: Client,
    sandbox: ZoomSandbox,
    sso_user: SandboxUser,
    settings: SettingsWrapper,
    zoom_http: responses.RequestsMock,
) -> None:
    fields = open_confirm_form(helpdesk_client, sso_user)
    # Nothing listens on port 9 of loopback: a real socket, refused.
    settings.ZOOM_API_BASE_URL = "http://127.0.0.1:9/v2"
    zoom_http.add_passthru("http://127.0.0.1:9")
    response = helpdesk_client.post("/force-logout/", {**fields, "reason": "Incident"}, **HTMX)

    assert response.status_code == 502
    assert "could not be reached" in text(response)
    assert "Nothing was sent" in text(response)
    _, result = intent_and_result()
    assert result.outcome == Outcome.FAILED


def test_without_javascript_the_form_posts_and_the_page_shows_the_outcome(
    helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    found = helpdesk_client.get("/", {"q": sso_user.email})
    assert "<html" in found.content.decode()
    target = hidden_value(found.content.decode(), "target")
    confirm = helpdesk_client.get("/force-logout/confirm/", {"target": target})
    page = confirm.content.decode()
    assert "<html" in page and "hx-post" not in page
    response = helpdesk_client.post(
        "/force-logout/", {**confirm_form_fields(page), "reason": "No JS here"}
    )
    assert response.status_code == 200
    assert "<html" in response.content.decode()
    assert "Forced out of Zoom" in text(response)
    assert len(zoom_deletes(sandbox)) == 1


def test_force_logout_is_refused_when_the_audit_log_cannot_be_written(
    helpdesk_client: Client,
    sandbox: ZoomSandbox,
    sso_user: SandboxUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fields = open_confirm_form(helpdesk_client, sso_user)

    def broken_record(*args: object, **kwargs: object) -> None:
        raise DatabaseError("database is unreachable")

    monkeypatch.setattr("zoomadmin.helpdesk.actions.record", broken_record)
    response = helpdesk_client.post("/force-logout/", {**fields, "reason": "Incident"}, **HTMX)

    assert response.status_code == 503
    assert "Nothing was sent to Zoom" in text(response)
    assert zoom_deletes(sandbox) == []


def test_a_tampered_target_is_refused_without_calling_zoom(
    helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    fields = open_confirm_form(helpdesk_client, sso_user)
    tampered = {**fields, "target": fields["target"][:-3] + "abc", "reason": "x"}
    response = helpdesk_client.post("/force-logout/", tampered, **HTMX)

    assert response.status_code == 400
    assert "Nothing was sent to Zoom" in text(response)
    assert zoom_deletes(sandbox) == []


def test_garbage_submission_id_is_refused(
    helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    fields = open_confirm_form(helpdesk_client, sso_user)
    response = helpdesk_client.post(
        "/force-logout/", {**fields, "submission_id": "not-a-uuid", "reason": "x"}, **HTMX
    )
    assert response.status_code == 400
    assert zoom_deletes(sandbox) == []
    assert uuid.UUID(fields["submission_id"])
