"""The worker's schedule thread: the directory sync on time, and the audit reconcile."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from zoomadmin.audit.log import record
from zoomadmin.audit.models import Action, AuditEvent, Outcome
from zoomadmin.directory.management.commands.zoom_worker import schedule_forever
from zoomadmin.directory.models import DirectoryUser, SyncRun, SyncSchedule
from zoomadmin.zoom.sandbox import ZoomSandbox

pytestmark = pytest.mark.django_db(transaction=True)


def one_pass(every: timedelta | None) -> None:
    stop = threading.Event()
    stop.set()  # run the first pass, then return
    schedule_forever(every, stop)


def test_an_intent_whose_process_died_is_marked_unknown_by_the_worker() -> None:
    intent = record(
        Action.FORCE_LOGOUT_REQUESTED,
        actor_username="agent",
        target_email="a@globex.example.com",
        reason="incident",
    )
    old = timezone.now() - timedelta(hours=1)
    stale = AuditEvent(
        action=Action.FORCE_LOGOUT_REQUESTED,
        actor_username="agent",
        target_email="b@globex.example.com",
        created_at=old,
    )
    stale.save()

    one_pass(None)

    result = AuditEvent.objects.get(action=Action.FORCE_LOGOUT_RESULT)
    assert result.intent_id == stale.pk
    assert result.outcome == Outcome.UNKNOWN
    assert not AuditEvent.objects.filter(intent=intent).exists(), "a fresh intent is left alone"


def test_the_directory_sync_is_enqueued_when_due(sandbox: ZoomSandbox) -> None:
    one_pass(timedelta(minutes=15))  # the test task backend runs the sync at once

    schedule = SyncSchedule.objects.get(pk="directory")
    assert schedule.next_due_at > timezone.now() + timedelta(minutes=14)
    run = SyncRun.objects.get()
    assert run.trigger == SyncRun.Trigger.SCHEDULE
    assert DirectoryUser.objects.count() == len(sandbox.users)
