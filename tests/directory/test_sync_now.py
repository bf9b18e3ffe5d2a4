""" "Sync now": managers and superusers start a sync; anyone else is refused and audited."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError
from django.tasks.backends.immediate import ImmediateBackend
from django.tasks.exceptions import InvalidTask, InvalidTaskBackend
from django.test import Client
from django.utils import timezone

from tests.conftest import signed_in
from tests.flows import HTMX, text
from zoomadmin.audit.models import Action, AuditEvent, Outcome
from zoomadmin.directory.models import SyncRun
from zoomadmin.directory.status import ago
from zoomadmin.directory.sync import start_run
from zoomadmin.zoom.sandbox import ZoomSandbox

pytestmark = pytest.mark.django_db
URL = "/directory/sync/"


@pytest.mark.parametrize("who", ["manager", "superuser"])
def test_a_manager_or_superuser_starts_a_sync(
    who: str, request: pytest.FixtureRequest, sandbox: ZoomSandbox
) -> None:
    user: User = request.getfixturevalue(who)
    client = signed_in(user)
    assert "Sync now" in text(client.get("/"))

    response = client.post(URL, **HTMX)  # the immediate backend runs it in the request

    assert response.status_code == 200
    assert "Sync started" in text(response)
    assert "Directory synced less than a minute ago" in text(response)
    run = SyncRun.objects.get()
    assert (run.trigger, run.requested_by, run.status) == (
        SyncRun.Trigger.MANUAL,
        user.username,
        SyncRun.Status.SUCCEEDED,
    )
    audit = AuditEvent.objects.get(action=Action.DIRECTORY_SYNC)
    assert (audit.actor, audit.outcome) == (user, "success")


def test_without_htmx_the_page_reloads(manager_client: Client, sandbox: ZoomSandbox) -> None:
    response = manager_client.post(URL)

    assert (response.status_code, response["Location"]) == (302, "/")
    assert SyncRun.objects.get().status == SyncRun.Status.SUCCEEDED


def test_a_sync_already_running_is_not_started_twice(
    manager_client: Client, sandbox: ZoomSandbox
) -> None:
    start_run(trigger=SyncRun.Trigger.SCHEDULE)

    response = manager_client.post(URL, **HTMX)

    assert "A sync is already running." in text(response)
    assert SyncRun.objects.count() == 1
    assert AuditEvent.objects.get(action=Action.DIRECTORY_SYNC).outcome == "failed"
    assert [r for r in sandbox.requests if r.host == "api"] == []


def test_the_page_says_a_sync_is_running_or_failed(
    manager_client: Client, sandbox: ZoomSandbox
) -> None:
    running = start_run(trigger=SyncRun.Trigger.SCHEDULE)
    assert "A sync is running" in text(manager_client.get("/"))

    SyncRun.objects.filter(pk=running.pk).update(
        status=SyncRun.Status.FAILED, finished_at=timezone.now(), error="Stopped at page 2."
    )
    assert "The last sync failed at" in text(manager_client.get("/"))
    assert "Stopped at page 2." in text(manager_client.get("/"))


@pytest.mark.parametrize("who", ["helpdesk", "no_role"])
def test_anyone_else_is_refused_and_the_refusal_is_audited(
    who: str, request: pytest.FixtureRequest, sandbox: ZoomSandbox
) -> None:
    client = signed_in(request.getfixturevalue(who))

    response = client.post(URL, **HTMX)

    assert response.status_code == 403
    assert not SyncRun.objects.exists()
    denied = AuditEvent.objects.get(action=Action.DENIED)
    assert denied.detail.startswith(f"POST {URL}")


def test_anonymous_visitors_are_sent_to_sign_in(sandbox: ZoomSandbox) -> None:
    response = Client().post(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not SyncRun.objects.exists()


def test_the_post_needs_the_csrf_token(manager: User, sandbox: ZoomSandbox) -> None:
    client = signed_in(manager, enforce_csrf_checks=True)

    response = client.post(URL)

    assert response.status_code == 403
    assert not SyncRun.objects.exists()


def test_get_is_not_allowed(manager_client: Client) -> None:
    assert manager_client.get(URL).status_code == 405


@pytest.mark.parametrize(
    ("minutes", "said"),
    [
        (0, "less than a minute ago"),
        (1, "1 minute ago"),
        (45, "45 minutes ago"),
        (180, "3 hours ago"),
        (3 * 24 * 60, "3 days ago"),
    ],
)
def test_how_long_ago_reads(minutes: int, said: str) -> None:
    assert ago(timedelta(minutes=minutes, seconds=5)) == said


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("database is locked"),
        InvalidTask("Backend does not support run_after."),
        InvalidTaskBackend("Could not find backend 'default'"),
    ],
    ids=["database", "task", "backend"],
)
def test_a_sync_that_cannot_be_queued_says_so_and_is_audited_as_failed(
    manager: User,
    manager_client: Client,
    sandbox: ZoomSandbox,
    caplog: pytest.LogCaptureFixture,
    error: Exception,
) -> None:
    with mock.patch.object(ImmediateBackend, "enqueue", side_effect=error):
        response = manager_client.post(URL, **HTMX)

    assert response.status_code == 503
    page = text(response)
    assert "The sync could not be queued, so it did not start." in page
    assert "Sync started" not in page
    assert "Sync now" in page  # the button stays, to try again
    assert not SyncRun.objects.exists()
    audit = AuditEvent.objects.get(action=Action.DIRECTORY_SYNC)
    assert (audit.actor, audit.outcome) == (manager, Outcome.FAILED)
    assert "could not be queued" in audit.detail
    [logged] = [r for r in caplog.records if r.name == "zoomadmin.directory.views"]
    assert logged.levelname == "ERROR"
    assert logged.exc_info is not None and logged.exc_info[1] is error


def test_without_htmx_a_sync_that_cannot_be_queued_is_told_on_the_reloaded_page(
    manager: User, manager_client: Client, sandbox: ZoomSandbox
) -> None:
    broken = OperationalError("database is locked")
    with mock.patch.object(ImmediateBackend, "enqueue", side_effect=broken):
        response = manager_client.post(URL, follow=True)

    assert response.redirect_chain == [("/", 302)]
    assert "The sync could not be queued, so it did not start." in text(response)
    audit = AuditEvent.objects.get(action=Action.DIRECTORY_SYNC)
    assert (audit.actor, audit.outcome) == (manager, Outcome.FAILED)


def test_a_bug_in_queueing_is_not_passed_off_as_a_queue_failure(
    manager_client: Client, sandbox: ZoomSandbox
) -> None:
    with (
        mock.patch.object(ImmediateBackend, "enqueue", side_effect=TypeError("a bug")),
        pytest.raises(TypeError, match="a bug"),
    ):
        manager_client.post(URL, **HTMX)

    assert not AuditEvent.objects.filter(action=Action.DIRECTORY_SYNC).exists()
