"""What the search page says about the directory: how fresh, how big, what is running."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from zoomadmin.directory.models import DirectoryUser, SyncRun


@dataclass(frozen=True)
class DirectoryStatus:
    users: int
    last_success: SyncRun | None
    running: SyncRun | None
    last_failure: SyncRun | None  # the latest finished run, when it failed
    now: datetime

    @property
    def users_text(self) -> str:
        """ "100,000 users" (or "1 user")."""
        return f"{self.users:,} user{'s' if self.users != 1 else ''}"

    @property
    def synced_ago(self) -> str:
        """ "12 minutes ago" for the last complete sync ("" when there was none)."""
        if self.last_success is None or self.last_success.finished_at is None:
            return ""
        return ago(self.now - self.last_success.finished_at)


def ago(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 1:
        return "less than a minute ago"
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hours ago"
    return f"{hours // 24} days ago"


def directory_status() -> DirectoryStatus:
    """Four small queries: the user count and three of the latest runs."""
    finished = SyncRun.objects.exclude(status=SyncRun.Status.RUNNING)
    latest = finished.first()
    return DirectoryStatus(
        users=DirectoryUser.objects.filter(gone_at__isnull=True).count(),
        last_success=finished.filter(status=SyncRun.Status.SUCCEEDED).first(),
        running=SyncRun.objects.filter(status=SyncRun.Status.RUNNING).first(),
        last_failure=latest if latest and latest.status == SyncRun.Status.FAILED else None,
        now=timezone.now(),
    )
