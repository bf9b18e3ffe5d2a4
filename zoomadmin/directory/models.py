"""The local copy of the Zoom user directory, and the record of each sync that filled it.

Zoom has no search by name (ZOOM_API.md section 2.2), so the dashboard keeps every Zoom
user here and searches locally; the user an agent picks is still looked up fresh.
"""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.utils import timezone


class DirectoryUser(models.Model):
    """One Zoom user as the last sync or lookup saw them. Never deleted: a user Zoom no
    longer lists is marked ``gone_at``, so a past search result still has its row."""

    # The upsert key: the Zoom id, or "email:<email>" for a pending user, whom Zoom lists
    # without an id (ZOOM_API.md 2.1). Adopted by the id once Zoom tells us the id.
    # Unique by the constraint below (unique=True would add a second index on PostgreSQL).
    key = models.CharField(max_length=320)
    zoom_id = models.CharField(max_length=64, blank=True)
    email = models.CharField(max_length=254)
    email_key = models.CharField(max_length=254)  # lowercase: exact and prefix matches
    first_name = models.CharField(max_length=128, blank=True)
    last_name = models.CharField(max_length=128, blank=True)
    display_name = models.CharField(max_length=256, blank=True)
    dept = models.CharField(max_length=256, blank=True)
    user_type = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=16)
    role_id = models.CharField(max_length=64, blank=True)
    last_login_time = models.DateTimeField(null=True, blank=True)
    # None: unknown. GET /users does not carry login types; only a fresh lookup does.
    login_types = models.JSONField(null=True, blank=True)
    # " word word ": the folded name words (text.search_text); trigram-indexed on PostgreSQL.
    search_text = models.TextField()
    sort_name = models.CharField(max_length=256)
    # A digest of the listed fields as last written: the sync compares it instead of
    # reading every field of every row back for each page.
    listed_digest = models.CharField(max_length=32, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    # When a sync last wrote a change (an unchanged user costs the sync no write).
    changed_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)  # last fresh GET /users/{id}
    gone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One index for uniqueness, the sync's lookups by key and "LIKE 'abc%'": every
            # index costs the sync a write per row.
            models.UniqueConstraint(
                fields=["key"], name="directory_key", opclasses=["varchar_pattern_ops"]
            ),
        ]
        indexes = [
            # One index each serves both "=" and "LIKE 'abc%'": on PostgreSQL a pattern
            # operator class (the database's collation may not be "C"); a plain index on
            # SQLite. (db_index=True would build a second, redundant one on PostgreSQL,
            # and every index costs the sync a write per row.)
            models.Index(
                fields=["email_key"], name="directory_email_key", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(
                fields=["zoom_id"], name="directory_zoom_id", opclasses=["varchar_pattern_ops"]
            ),
            # Created on PostgreSQL only, by the migration (SQLite has no GIN).
            GinIndex(
                fields=["search_text"], name="directory_search_trgm", opclasses=["gin_trgm_ops"]
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name or self.email} ({self.status})"

    @property
    def name(self) -> str:
        full = f"{self.first_name} {self.last_name}".strip()
        return self.display_name or full or self.email


class SyncRun(models.Model):
    """One pass of ``zoom_sync``: when, who asked, how far it got and what it counted."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        COMMAND = "command", "zoom_sync command"
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Sync now"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    requested_by = models.CharField(max_length=150, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Moved on after every page: a running row that stops moving was left by a dead worker.
    heartbeat_at = models.DateTimeField(default=timezone.now)
    pages = models.PositiveIntegerField(default=0)
    seen = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    gone = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # The lock: one running sync across every process and machine.
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="running"),
                name="directory_one_running_sync",
            ),
        ]

    def __str__(self) -> str:
        return f"Sync #{self.pk} {self.status} ({self.started_at:%Y-%m-%d %H:%M})"


class SyncSchedule(models.Model):
    """When the next scheduled sync is due. Workers claim a slot with one conditional
    UPDATE, so however many run, one of them enqueues each scheduled sync."""

    name = models.CharField(max_length=32, primary_key=True, default="directory")
    next_due_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name}: next sync due {self.next_due_at:%Y-%m-%d %H:%M}"
