"""/audit/: newest first, filters in the URL, pages that hold still while rows arrive."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.test import Client

from tests.flows import force_logout, text
from zoomadmin.audit.log import record
from zoomadmin.audit.models import Action, AuditEvent, Outcome
from zoomadmin.zoom.sandbox import SandboxUser, ZoomSandbox

pytestmark = pytest.mark.django_db


def event_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'id="event-(\d+)"', page)]


def add_events(count: int, **fields: object) -> list[AuditEvent]:
    return [
        record(Action.SEARCH, actor_username=f"agent{i % 3}", outcome=Outcome.SUCCESS, **fields)  # type: ignore[arg-type]
        for i in range(count)
    ]


def test_managers_see_the_force_logout_with_its_result(
    helpdesk_client: Client, manager_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    force_logout(helpdesk_client, sso_user, reason="Compromised, INC-77")

    response = manager_client.get("/audit/")

    assert response.status_code == 200
    page = text(response)
    assert "Force log out requested" in page
    assert "Force log out result" in page
    assert "Compromised, INC-77" in page
    assert sso_user.email in page
    assert "hana.helpdesk" in page
    intent = AuditEvent.objects.get(action=Action.FORCE_LOGOUT_REQUESTED)
    result = AuditEvent.objects.get(action=Action.FORCE_LOGOUT_RESULT)
    body = response.content.decode()
    assert f'href="#event-{result.pk}"' in body and f'href="#event-{intent.pk}"' in body


def test_newest_first(manager_client: Client) -> None:
    events = add_events(5)
    ids = event_ids(manager_client.get("/audit/").content.decode())
    assert ids[:5] == sorted((e.pk for e in events), reverse=True)


def test_an_intent_without_a_result_says_so(manager_client: Client) -> None:
    record(Action.FORCE_LOGOUT_REQUESTED, actor_username="agent", target_email="a@b.example")
    assert "No result recorded" in text(manager_client.get("/audit/"))


@pytest.mark.parametrize(
    ("query", "expected_actor"),
    [({"actor": "agent1"}, "agent1"), ({"actor": "AGENT2"}, "agent2")],
)
def test_filter_by_actor(
    manager_client: Client, query: dict[str, str], expected_actor: str
) -> None:
    add_events(9)
    ids = event_ids(manager_client.get("/audit/", query).content.decode())
    assert len(ids) == 3
    assert set(AuditEvent.objects.filter(pk__in=ids).values_list("actor_username", flat=True)) == {
        expected_actor
    }


def test_filter_by_target_email_or_id(manager_client: Client) -> None:
    mine = record(Action.SEARCH, target_email="priya@globex.example", target_zoom_id="A" * 22)
    add_events(3, target_email="other@globex.example")
    for value in ("PRIYA@globex.example", "A" * 22):
        assert event_ids(manager_client.get("/audit/", {"target": value}).content.decode()) == [
            mine.pk
        ]


def test_filter_by_action_and_outcome(manager_client: Client) -> None:
    add_events(2)
    denied = record(Action.DENIED, actor_username="x", outcome=Outcome.DENIED)
    failed = record(Action.FORCE_LOGOUT_RESULT, outcome=Outcome.FAILED)
    page = manager_client.get("/audit/", {"action": "denied"}).content.decode()
    assert event_ids(page) == [denied.pk]
    page = manager_client.get("/audit/", {"outcome": "failed"}).content.decode()
    assert event_ids(page) == [failed.pk]


def test_filter_by_date_range(manager_client: Client) -> None:
    def at(day: int) -> AuditEvent:
        event = AuditEvent(action=Action.SEARCH, created_at=datetime(2026, 11, day, 12, tzinfo=UTC))
        event.save()
        return event

    first, second, third = at(1), at(2), at(3)
    page = manager_client.get("/audit/", {"date_from": "2026-11-02", "date_to": "2026-11-02"})
    assert event_ids(page.content.decode()) == [second.pk]
    page = manager_client.get("/audit/", {"date_from": "2026-11-02", "date_to": "2026-11-30"})
    assert event_ids(page.content.decode()) == [third.pk, second.pk]
    assert first.pk not in event_ids(
        manager_client.get("/audit/", {"date_to": "2026-10-31"}).content.decode()
    )


@pytest.mark.parametrize(
    "query",
    [
        {"date_from": "2026-11-03", "date_to": "2026-11-01"},
        {"date_from": "yesterday"},
        {"action": "delete_everything"},
        {"outcome": "<script>"},
    ],
)
def test_a_bad_filter_says_what_is_wrong(manager_client: Client, query: dict[str, str]) -> None:
    add_events(2)
    response = manager_client.get("/audit/", query)
    assert response.status_code == 400
    assert event_ids(response.content.decode()) == []
    assert "Fix the filter" in text(response)


def test_pages_are_keyset_and_hold_still_while_rows_arrive(manager_client: Client) -> None:
    events = add_events(120)
    first = manager_client.get("/audit/").content.decode()
    first_ids = event_ids(first)
    assert first_ids == sorted((e.pk for e in events), reverse=True)[:50]
    older = re.search(r'href="\?([^"]*before=\d+)"', first)
    assert older, "an Older link"

    add_events(7)  # new rows arrive while the manager reads page 1
    second_ids = event_ids(manager_client.get("/audit/?" + older.group(1)).content.decode())
    assert second_ids == sorted((e.pk for e in events), reverse=True)[50:100]

    newer = re.search(
        r'href="\?([^"]*after=\d+)"',
        manager_client.get("/audit/?" + older.group(1)).content.decode(),
    )
    assert newer
    back = event_ids(
        manager_client.get("/audit/?" + newer.group(1).replace("&amp;", "&")).content.decode()
    )
    assert back == first_ids


def test_pagination_links_keep_the_filter(manager_client: Client) -> None:
    add_events(200)
    page = manager_client.get("/audit/", {"actor": "agent0"}).content.decode()
    older = re.search(r'href="\?([^"]*before=\d+)"', page)
    assert older and "actor=agent0" in older.group(1)
    ids = event_ids(
        manager_client.get("/audit/?" + older.group(1).replace("&amp;", "&")).content.decode()
    )
    assert ids and set(
        AuditEvent.objects.filter(pk__in=ids).values_list("actor_username", flat=True)
    ) == {"agent0"}


def test_helpdesk_is_refused_and_the_refusal_is_audited(helpdesk_client: Client) -> None:
    response = helpdesk_client.get("/audit/")
    assert response.status_code == 403
    refusal = AuditEvent.objects.get(action=Action.DENIED)
    assert refusal.actor_username == "hana.helpdesk"
    assert "/audit/" in refusal.detail
