"""The audit log: one append-only table of everything staff did and what Zoom answered.

Shaped like Django's ``admin.LogEntry`` (when, who, what, which object plus a frozen
text copy of it), with what an incident review needs on top: the reason, the outcome,
Zoom's status, error code, message and tracking id, and where the request came from.
"""

from __future__ import annotations

from typing import Any, ClassVar, NoReturn

from django.conf import settings
from django.db import models
from django.utils import timezone


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


class AuditEvent(models.Model):
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
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

    objects: ClassVar[models.Manager[AuditEvent]] = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["actor_username", "-id"], name="audit_actor_idx"),
            models.Index(fields=["target_email", "-id"], name="audit_target_email_idx"),
            models.Index(fields=["target_zoom_id", "-id"], name="audit_target_id_idx"),
            models.Index(fields=["action", "outcome", "-id"], name="audit_action_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit events cannot be changed")
        super().save(*args, **kwargs)

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
