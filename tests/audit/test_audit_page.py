"""/audit/: newest first, filters in the URL, pages that hold still while rows arrive."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.test import Client

from tests.flows import force_logout, text
from zoomadmin.audit import views
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
    assert "Unknown: no result recorded" in text(manager_client.get("/audit/"))


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


def test_filter_by_reason_text(manager_client: Client) -> None:
    stolen = record(Action.FORCE_LOGOUT_REQUESTED, reason="Laptop STOLEN at the airport, INC-4")
    record(Action.FORCE_LOGOUT_REQUESTED, reason="Phished, INC-5")
    page = manager_client.get("/audit/", {"reason": "stolen"}).content.decode()
    assert event_ids(page) == [stolen.pk]


def test_filter_by_request_id(manager_client: Client, helpdesk_client: Client) -> None:
    response = helpdesk_client.get("/audit/")  # refused: one "denied" row with this request id
    request_id = response["X-Request-ID"]
    add_events(3)
    denied = AuditEvent.objects.get(request_id=request_id)
    page = manager_client.get("/audit/", {"request_id": request_id}).content.decode()
    assert event_ids(page) == [denied.pk]


def test_a_zoom_id_filter_does_not_match_an_email_and_back(manager_client: Client) -> None:
    by_id = record(Action.SEARCH, target_zoom_id="B" * 22)
    by_email = record(Action.SEARCH, target_email="bbb@globex.example")
    assert event_ids(manager_client.get("/audit/", {"target": "B" * 22}).content.decode()) == [
        by_id.pk
    ]
    page = manager_client.get("/audit/", {"target": "BBB@globex.example"}).content.decode()
    assert event_ids(page) == [by_email.pk]


def test_every_filter_is_kept_in_the_links(manager_client: Client) -> None:
    add_events(200, reason="INC-1", target_email="x@globex.example")
    query = {
        "actor": "agent1",
        "target": "x@globex.example",
        "action": "search",
        "outcome": "success",
        "date_from": "2000-01-01",
        "date_to": "2999-12-31",
        "reason": "INC",
        "request_id": "",
    }
    page = manager_client.get("/audit/", query).content.decode().replace("&amp;", "&")
    expected = (
        "actor=agent1&target=x%40globex.example&action=search&outcome=success"
        "&date_from=2000-01-01&date_to=2999-12-31&reason=INC"
    )
    assert f'href="/audit/export.csv?{expected}"' in page
    assert f'href="/audit/export.jsonl?{expected}"' in page
    assert f'href="?{expected}&before=' in page


def test_the_summary_strip_counts_the_filtered_set_by_action_and_outcome(
    manager_client: Client,
) -> None:
    add_events(7)  # searches, success, agents 0..2
    record(Action.DENIED, actor_username="agent1", outcome=Outcome.DENIED)
    record(Action.FORCE_LOGOUT_RESULT, actor_username="agent1", outcome=Outcome.FAILED)
    record(Action.FORCE_LOGOUT_RESULT, actor_username="agent1", outcome=Outcome.FAILED)

    response = manager_client.get("/audit/", {"actor": "agent1"})
    page = text(response)

    # agent1: searches 1 and 4 (two), one refusal, two failed results.
    assert "5 events match this filter." in page
    assert "By action: Force log out result 2 · Searched Zoom 2 · Refused 1" in page
    assert "By outcome: Failed 2 · Success 2 · Denied 1" in page
    assert response.context["summary"].total == 5


def test_the_summary_strip_says_when_it_counts_only_the_newest_rows(
    manager_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "SUMMARY_CAP", 4)
    add_events(6)
    page = text(manager_client.get("/audit/", {"action": "search"}))
    assert "More than 4 events match this filter; the counts below are for the newest 4" in page
    assert "By action: Searched Zoom 4" in page
    record(Action.SEARCH, actor_username="solo")
    assert "1 event matches this filter." in text(manager_client.get("/audit/", {"actor": "solo"}))


def test_a_hand_typed_cursor_still_gets_the_right_links(manager_client: Client) -> None:
    events = add_events(150)  # agent0, agent1, agent2, agent0, ...
    not_agent0 = events[100]
    assert not_agent0.actor_username == "agent1"
    page = manager_client.get("/audit/", {"actor": "agent0", "before": not_agent0.pk})
    body = page.content.decode()
    ids = event_ids(body)
    assert ids == [e.pk for e in reversed(events[:100]) if e.actor_username == "agent0"][:50]
    assert 'rel="prev"' in body, "agent0 rows newer than the cursor exist"
    beyond = manager_client.get("/audit/", {"actor": "agent0", "before": events[-1].pk + 999})
    assert 'rel="prev"' not in beyond.content.decode()
    assert event_ids(beyond.content.decode())[0] == events[-3].pk
