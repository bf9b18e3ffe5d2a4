"""``manage.py zoom_worker``: run background tasks, and the schedule.

It is django-tasks-db's ``db_worker`` (same options: ``--queue-name``, ``--interval``,
``--worker-id``, ...) plus a small schedule thread, which enqueues the directory sync
on time and every ``RECONCILE_SECONDS`` gives force-logout intents that lost their
process an "unknown, check Zoom" result (``audit.reconcile``). Run as many as you like:
each task is claimed by one worker (``SELECT ... FOR UPDATE SKIP LOCKED``), each
scheduled sync is enqueued by one of them (``tasks.enqueue_if_due``), one sync runs at
a time, and reconciling is idempotent.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.core.management.base import CommandError
from django.db import DatabaseError, close_old_connections, connection
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from zoomadmin.audit.reconcile import reconcile_unfinished_intents
from zoomadmin.directory.tasks import enqueue_if_due

logger = logging.getLogger(__name__)

DEFAULT_SYNC_MINUTES = 15.0
# How often the schedule is looked at; a shorter schedule is looked at more often.
CHECK_SECONDS = 30.0
RECONCILE_SECONDS = 300.0


class Command(DatabaseWorkerCommand):
    help = (
        "Run background tasks from the database queue and enqueue a directory sync every "
        "--sync-every minutes. Several may run at once."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--sync-every",
            type=float,
            default=DEFAULT_SYNC_MINUTES,
            metavar="MINUTES",
            help=f"minutes between scheduled directory syncs; 0: none (default "
            f"{DEFAULT_SYNC_MINUTES:g})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        minutes: float = options.pop("sync_every")
        if minutes < 0:
            raise CommandError("--sync-every must be 0 or more minutes")
        # With --reload the parent process only restarts children; a child schedules.
        reloading_parent = options["reload"] and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true"
        if not reloading_parent:
            every = timedelta(minutes=minutes) if minutes else None
            threading.Thread(
                target=schedule_forever, args=(every,), name="schedule", daemon=True
            ).start()
        super().handle(*args, **options)


def schedule_forever(every: timedelta | None, stop: threading.Event | None = None) -> None:
    """Look at the schedule now, then every ``CHECK_SECONDS`` (or sooner for a short
    sync schedule), until ``stop`` is set: the directory sync every ``every`` (None:
    never), the audit reconcile every ``RECONCILE_SECONDS``. A database hiccup is logged
    and tried next time."""
    stop = stop or threading.Event()
    check = min(CHECK_SECONDS, every.total_seconds() / 4) if every else CHECK_SECONDS
    last_reconcile: float | None = None
    try:
        while True:
            try:
                if every and enqueue_if_due(every) is not None:
                    logger.info("directory sync enqueued by the schedule (every %s)", every)
                if last_reconcile is None or time.monotonic() - last_reconcile >= RECONCILE_SECONDS:
                    last_reconcile = time.monotonic()
                    if added := reconcile_unfinished_intents():
                        logger.warning("%d force-logout intent(s) marked unknown", len(added))
            except DatabaseError:
                logger.exception("the schedule could not be run; trying again")
            finally:
                close_old_connections()
            if stop.wait(check):
                return
    finally:
        connection.close()
