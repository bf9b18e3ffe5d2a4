"""``manage.py zoom_sync``: pull the Zoom user directory into the local database, now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zoomadmin.directory.models import SyncRun
from zoomadmin.directory.sync import PAGE_SIZE, SyncAlreadyRunning, run_sync


class Command(BaseCommand):
    help = (
        "Page through Zoom's users (active, inactive, pending) into the local directory. "
        "Exits 1 when the sync fails, 2 when another sync is already running."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--page-size",
            type=int,
            default=PAGE_SIZE,
            help=f"users per GET /users call, 1-{PAGE_SIZE} (default {PAGE_SIZE})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        page_size: int = options["page_size"]
        if not 1 <= page_size <= PAGE_SIZE:
            raise CommandError(f"--page-size must be between 1 and {PAGE_SIZE}")
        try:
            run = run_sync(trigger=SyncRun.Trigger.COMMAND, page_size=page_size)
        except SyncAlreadyRunning as busy:
            running = busy.running
            since = f" (#{running.pk}, since {running.started_at:%H:%M:%S} UTC)" if running else ""
            raise CommandError(f"Another directory sync is running{since}.", returncode=2) from None
        summary = (
            f"sync #{run.pk}: {run.pages} pages, {run.seen} users seen, {run.created} new, "
            f"{run.updated} updated, {run.gone} gone"
        )
        if run.status != SyncRun.Status.SUCCEEDED:
            raise CommandError(f"Directory {summary}; failed: {run.error}")
        self.stdout.write(f"Directory {summary}.")
