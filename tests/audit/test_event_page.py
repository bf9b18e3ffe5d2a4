"""/audit/<id>/: one event with every field, its intent or results, its place in the chain."""

from __future__ import annotations

import html
import uuid

import pytest
from django.test import Client

from tests.audit.helpers import behind_the_apps_back
from tests.flows import force_logout, text
from zoomadmin.audit import chain
from zoomadmin.audit.models import Action, AuditEvent, Outcome
from zoomadmin.zoom.sandbox import SandboxUser, ZoomSandbox

pytestmark = pytest.mark.django_db


def test_the_event_page_shows_every_field(
    manager_client: Client, helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    sandbox.add_fault(endpoint="revoke", status=404, code=1001, message="User does not exist.")
    force_logout(helpdesk_client, sso_user, reason="Leaver <b>bold</b>, INC-3")
    result = AuditEvent.objects.get(action=Action.FORCE_LOGOUT_RESULT)

    response = manager_client.get(f"/audit/{result.pk}/")

    assert response.status_code == 200
    page = text(response)
    body = response.content.decode()
    for field in AuditEvent._meta.concrete_fields:
        value = getattr(result, field.attname)
        if value in (None, ""):
            continue
        shown = chain.canonical_time(value) if field.name == "created_at" else str(value)
        assert shown in page, f"{field.name} ({shown!r}) is not on the page"
    assert "<b>bold</b>" not in body, "stored text is escaped"
    assert "Not found" in page and "User does not exist." in page
    assert f'href="/audit/{result.intent_id}/"' in body
    assert "Hash matches the content Yes" in page
    assert "Links to the row before Yes" in page


def test_an_intent_lists_its_results_and_a_result_links_its_intent(
    manager_client: Client, helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    force_logout(helpdesk_client, sso_user)
    intent = AuditEvent.objects.get(action=Action.FORCE_LOGOUT_REQUESTED)
    result = AuditEvent.objects.get(action=Action.FORCE_LOGOUT_RESULT)

    intent_page = manager_client.get(f"/audit/{intent.pk}/").content.decode()
    assert f'href="/audit/{result.pk}/"' in intent_page
    assert "Results of this request" in intent_page
    assert str(intent.submission_id) in intent_page
    result_page = manager_client.get(f"/audit/{result.pk}/").content.decode()
    assert "The request this is the result of" in result_page
    assert f'href="/audit/{intent.pk}/"' in result_page


def test_an_intent_without_a_result_is_shown_as_unknown(manager_client: Client) -> None:
    intent = AuditEvent.objects.create(
        action=Action.FORCE_LOGOUT_REQUESTED, actor_username="agent", submission_id=uuid.uuid4()
    )
    page = text(manager_client.get(f"/audit/{intent.pk}/"))
    assert "Unknown: no result recorded." in page


def test_a_row_changed_behind_the_apps_back_shows_on_its_page(manager_client: Client) -> None:
    event = AuditEvent.objects.create(action=Action.SEARCH, outcome=Outcome.SUCCESS)
    behind_the_apps_back("UPDATE audit_auditevent SET detail = 'edited' WHERE id = %s", [event.pk])
    page = text(manager_client.get(f"/audit/{event.pk}/"))
    assert "Hash matches the content No: this row was changed after it was written" in page


def test_an_unknown_event_is_404(manager_client: Client) -> None:
    assert manager_client.get("/audit/999999/").status_code == 404


def test_the_log_links_each_row_to_its_page(manager_client: Client) -> None:
    event = AuditEvent.objects.create(action=Action.SEARCH, actor_username="agent")
    body = manager_client.get("/audit/").content.decode()
    assert f'<a href="/audit/{event.pk}/"' in html.unescape(body)


def test_helpdesk_is_refused_the_event_page_and_the_refusal_is_audited(
    helpdesk_client: Client,
) -> None:
    event = AuditEvent.objects.create(action=Action.SEARCH, actor_username="agent")
    assert helpdesk_client.get(f"/audit/{event.pk}/").status_code == 403
    refusal = AuditEvent.objects.get(action=Action.DENIED)
    assert f"/audit/{event.pk}/" in refusal.detail
