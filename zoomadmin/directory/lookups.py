"""What a fresh ``GET /users/{userId}`` teaches the directory."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from zoomadmin.directory.models import DirectoryUser
from zoomadmin.directory.pages import LISTED_FIELDS, PENDING_KEY_PREFIX, listed_values
from zoomadmin.zoom.client import ZoomUser


def remember_lookup(user: ZoomUser) -> None:
    """Write a user Zoom just returned into the directory, login types included.

    One short transaction: a row lock, one upsert. A pending row known only by email
    keeps its key and learns its id (the next sync adopts it under that id).
    """
    now = timezone.now()
    email_key = user.email.lower()
    pending_key = PENDING_KEY_PREFIX + email_key
    with transaction.atomic():
        existing = set(
            DirectoryUser.objects.select_for_update()
            .filter(key__in=[user.id, pending_key])
            .values_list("key", flat=True)
        )
        # A pending row keeps its key (the next sync adopts it) unless the id has a row.
        keep_pending = pending_key in existing and user.id not in existing
        key = user.id if user.id and not keep_pending else pending_key
        DirectoryUser.objects.bulk_create(
            [
                DirectoryUser(
                    key=key,
                    **listed_values(user),
                    login_types=list(user.login_types),
                    refreshed_at=now,
                    changed_at=now,
                    first_seen_at=now,
                    gone_at=None,
                )
            ],
            update_conflicts=True,
            unique_fields=["key"],
            update_fields=[*LISTED_FIELDS, "login_types", "refreshed_at", "changed_at", "gone_at"],
        )


def forget_missing(reference: str) -> int:
    """Zoom answered 404 for this email or id: mark its rows gone. Returns how many."""
    return DirectoryUser.objects.filter(
        Q(email_key=reference.lower()) | Q(zoom_id=reference), gone_at__isnull=True
    ).update(gone_at=timezone.now())
