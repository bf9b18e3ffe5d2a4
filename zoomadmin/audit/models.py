"""The audit log: one append-only table of everything staff did and what Zoom answered.

Shaped like Django's ``admin.LogEntry`` (when, who, what, which object plus a frozen
text copy of it), with what an incident review needs on top: the reason, the outcome,
Zoom's status, error code, message and tracking id, and where the request came from.
"""

from __future__ import annotations

from typing import Any, ClassVar, NoReturn

from django.conf import settings
from django.db import models, router, transaction
from django.db.models import F
from django.db.models.functions import Upper

from zoomadmin.audit import chain


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an audit row from the application."""


class Action(models.TextChoices):
    SIGN_IN = "sign_in", "Signed in"
    SIGN_IN_FAILED = "sign_in_failed", "Failed sign-in"
    SIGN_OUT = "sign_out", "Signed out"
    SEARCH = "search", "Searched Zoom"
    FORCE_LOGOUT_REQUESTED = "force_logout_requested", "Force log out requested"
    FORCE_LOGOUT_RESULT = "force_logout_result", "Force log out result"
    DENIED = "denied", "Refused"
    ZOOM_CONNECTED = "zoom_connected", "Connected Zoom"
    ZOOM_DISCONNECTED = "zoom_disconnected", "Disconnected Zoom"
    EXPORT = "export", "Exported the audit log"
    DIRECTORY_SYNC = "directory_sync", "Started a directory sync"
    TOKEN_KEYS_ROTATED = "token_keys_rotated", "Re-encrypted the Zoom tokens"


class Outcome(models.TextChoices):
    # An intent has no outcome of its own: its result row links back to it.
    NONE = "", "—"
    SUCCESS = "success", "Success"
    NOT_FOUND = "not_found", "Not found"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Unknown"
    DENIED = "denied", "Denied"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events cannot be changed")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("audit events cannot be deleted")

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events cannot be changed")

    def update_or_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events cannot be changed")

    def bulk_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        # Each row must be linked into the hash chain under the append lock: one at a time.
        raise AppendOnlyError("audit events are appended one at a time, through record()")


class AuditEvent(models.Model):
    # Stamped under the append lock (chain.link) unless given, so that for every row the
    # application writes, time order is chain order.
    created_at = models.DateTimeField()
    # PROTECT: a staff account with history is deactivated, never deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32, choices=Action.choices)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    target_zoom_id = models.CharField(max_length=64, blank=True)
    target_email = models.CharField(max_length=254, blank=True)
    reason = models.TextField(blank=True)
    detail = models.TextField(blank=True)
    zoom_status = models.PositiveSmallIntegerField(null=True, blank=True)
    zoom_error_code = models.IntegerField(null=True, blank=True)
    zoom_message = models.TextField(blank=True)
    zoom_tracking_id = models.CharField(max_length=255, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    intent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="results",
    )
    # Set on intents: the id of the confirmation form that asked for the action, so
    # a double click or a resubmitted form is one action, not two.
    submission_id = models.UUIDField(null=True, blank=True, unique=True)
    # The hash chain (chain.py): gap-free position, the previous row's hash, this row's.
    seq = models.BigIntegerField(unique=True, editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    row_hash = models.CharField(max_length=64, editable=False)

    objects: ClassVar[models.Manager[AuditEvent]] = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        # The review page filters, then reads newest first: by time, then id (views.py).
        # Each index leads with what a filter compares and continues with that order, so
        # a page is one index range scan, date range included. The case-insensitive
        # filters compare UPPER(column) (Django's iexact on PostgreSQL), hence the
        # expression indexes. On PostgreSQL a trigram index serves "reason contains"
        # (migration 0004). bench/audit_bench.py measures them on a million rows.
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="audit_created_idx"),
            models.Index(
                Upper("actor_username"),
                F("created_at").desc(),
                F("id").desc(),
                name="audit_actor_idx",
            ),
            models.Index(
                Upper("target_email"),
                F("created_at").desc(),
                F("id").desc(),
                name="audit_target_email_idx",
            ),
            models.Index(
                fields=["target_zoom_id", "-created_at", "-id"], name="audit_target_id_idx"
            ),
            models.Index(fields=["action", "-created_at", "-id"], name="audit_action_idx"),
            models.Index(fields=["outcome", "-created_at", "-id"], name="audit_outcome_idx"),
            models.Index(fields=["request_id"], name="audit_request_idx"),
        ]

    def __str__(self) -> str:
        when = f"{self.created_at:%Y-%m-%d %H:%M:%S}" if self.created_at else "(unsaved)"
        return f"#{self.pk} {when} {self.actor_username} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """INSERT this new row at the head of the hash chain; never UPDATE.

        Takes the append lock (chain.link) in a transaction of its own, or in the caller's
        when there is one, which then holds the lock until it commits.
        """
        if not self._state.adding:
            raise AppendOnlyError("audit events cannot be changed")
        using = kwargs.pop("using", None) or router.db_for_write(type(self), instance=self)
        # What is hashed must be what the database will hand back: normalize first
        # ("204" -> 204, a str -> UUID, IPv6 spelled Django's way).
        for field in self._meta.concrete_fields:
            if field.attname not in ("id", "seq", "prev_hash", "row_hash"):
                setattr(self, field.attname, field.to_python(getattr(self, field.attname)))
        with transaction.atomic(using=using):
            chain.link(self, using=using)
            kwargs.update(force_insert=True, force_update=False)
            super().save(*args, using=using, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events cannot be deleted")

    @property
    def is_intent(self) -> bool:
        return self.action == Action.FORCE_LOGOUT_REQUESTED

    @property
    def latest_result(self) -> AuditEvent | None:
        """An intent's most recent result row (uses ``prefetch_related("results")``)."""
        results = list(self.results.all())
        return max(results, key=lambda row: row.pk) if results else None
