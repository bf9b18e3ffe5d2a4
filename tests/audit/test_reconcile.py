"""Nothing lost: an intent left without a result gets an "unknown, check Zoom" one."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tests.flows import text
from zoomadmin.audit.log import record
from zoomadmin.audit.models import Action, AuditEvent, Outcome
from zoomadmin.audit.reconcile import reconcile_unfinished_intents
from zoomadmin.audit.verify import verify_database

pytestmark = pytest.mark.django_db


def intent(minutes_ago: float, **fields: object) -> AuditEvent:
    row = AuditEvent(
        action=Action.FORCE_LOGOUT_REQUESTED,
        actor_username="hana.helpdesk",
        target_zoom_id="A" * 22,
        target_email="priya@globex.example",
        reason="Phished, INC-12",
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
        **fields,  # type: ignore[arg-type]
    )
    row.save()
    return row


def snapshot() -> list[tuple[int, str, str]]:
    return list(AuditEvent.objects.order_by("id").values_list("id", "row_hash", "reason"))


def test_an_old_intent_without_a_result_gets_an_unknown_result_linked_to_it() -> None:
    stranded = intent(minutes_ago=30)

    added = reconcile_unfinished_intents()

    assert len(added) == 1
    result = AuditEvent.objects.get(intent=stranded)
    assert result.action == Action.FORCE_LOGOUT_RESULT
    assert result.outcome == Outcome.UNKNOWN
    assert "check Zoom" in result.detail
    assert (result.target_zoom_id, result.target_email, result.reason) == (
        stranded.target_zoom_id,
        stranded.target_email,
        stranded.reason,
    )
    assert result.actor is None and result.actor_username == ""
    assert verify_database().intact


def test_reconcile_is_idempotent_and_never_deletes_or_changes_a_row() -> None:
    intent(minutes_ago=30)
    intent(minutes_ago=45)
    before = snapshot()

    first = reconcile_unfinished_intents()
    after_first = snapshot()
    second = reconcile_unfinished_intents()

    assert len(first) == 2
    assert second == []
    assert after_first[: len(before)] == before, "existing rows untouched"
    assert snapshot() == after_first
    assert verify_database().intact


def test_recent_intents_and_intents_with_a_result_are_left_alone() -> None:
    in_flight = intent(minutes_ago=1)  # younger than AUDIT_RECONCILE_AFTER_SECONDS
    answered = intent(minutes_ago=30)
    record(Action.FORCE_LOGOUT_RESULT, outcome=Outcome.SUCCESS, intent=answered)
    record(Action.SEARCH, outcome=Outcome.SUCCESS)  # not an intent at all

    assert reconcile_unfinished_intents() == []
    assert not in_flight.results.exists()
    assert answered.results.count() == 1


def test_the_age_is_configurable(settings: object) -> None:
    young = intent(minutes_ago=3)
    assert reconcile_unfinished_intents() == []
    settings.AUDIT_RECONCILE_AFTER_SECONDS = 120  # type: ignore[attr-defined]
    assert [row.intent_id for row in reconcile_unfinished_intents()] == [young.pk]


def test_the_command_reports_what_it_did() -> None:
    first = intent(minutes_ago=2)
    out = io.StringIO()
    call_command("audit_reconcile", stdout=out)
    assert out.getvalue().strip() == "Every force-logout intent has a result."

    call_command("audit_reconcile", "--older-than", "60", stdout=out)
    assert f"Marked 1 intents as unknown, check Zoom: #{first.pk}" in out.getvalue()


def test_the_audit_page_shows_the_intent_as_unknown_before_and_after(
    manager_client: Client,
) -> None:
    stranded = intent(minutes_ago=30)
    assert "Unknown: no result recorded" in text(manager_client.get("/audit/"))

    result = reconcile_unfinished_intents()[0]

    page = manager_client.get("/audit/").content.decode()
    assert f'href="#event-{result.pk}"' in page
    row = page.split(f'id="event-{stranded.pk}"')[1].split("</tr>")[0]
    assert "Unknown" in row and "No result recorded" not in row
