"""The directory sync as a background task (Django's tasks API; the worker is
``manage.py zoom_worker``), and the schedule that enqueues it."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.tasks import TaskResult, task
from django.utils import timezone

from zoomadmin.directory.models import SyncRun, SyncSchedule
from zoomadmin.directory.sync import SyncAlreadyRunning, run_sync

logger = logging.getLogger(__name__)


@task()
def sync_directory(
    trigger: str = SyncRun.Trigger.SCHEDULE.value, requested_by: str = ""
) -> int | None:
    """Run one directory sync (see ``sync.run_sync``); the id of its ``SyncRun``.

    None when another sync was already running: that one does the work.
    """
    try:
        run = run_sync(trigger=SyncRun.Trigger(trigger), requested_by=requested_by)
    except SyncAlreadyRunning:
        logger.info("directory sync (%s) skipped: another sync is running", trigger)
        return None
    return run.pk


def enqueue_if_due(
    every: timedelta, *, now: datetime | None = None
) -> TaskResult[..., int | None] | None:
    """Enqueue a scheduled sync when one is due; the enqueued task, or None.

    However many workers call this, one wins each slot: the claim is a single
    conditional UPDATE of the schedule row. Writes one or two rows.
    """
    now = now or timezone.now()
    SyncSchedule.objects.get_or_create(pk="directory", defaults={"next_due_at": now})
    claimed = SyncSchedule.objects.filter(pk="directory", next_due_at__lte=now).update(
        next_due_at=now + every
    )
    if not claimed:
        return None
    return sync_directory.enqueue(trigger=SyncRun.Trigger.SCHEDULE.value)
