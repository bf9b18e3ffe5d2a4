"""Zoom's per-second limits, shared by every thread and process through the database.

Zoom limits requests per account and per category (Light, Medium, Heavy), at rates
that depend on the plan (ZOOM_API.md section 4). Each call reserves the next send slot
of its category in ``RateLimitBucket``: slots are spaced evenly (no bursts), a little
under the plan's rate, so even with scheduling jitter no one-second window at Zoom
holds more than the limit. The reservation is one short row-locked transaction; the
wait for the slot happens outside it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from django.conf import settings
from django.db import transaction

from zoomadmin.zoom.errors import ZoomRateLimited
from zoomadmin.zoom.models import RateLimitBucket

Category = Literal["light", "medium", "heavy"]

# Requests per second by plan and category (ZOOM_API.md section 4; "business" covers
# Business, Education and Enterprise).
PLAN_LIMITS: dict[str, dict[Category, int]] = {
    "free": {"light": 4, "medium": 2, "heavy": 1},
    "pro": {"light": 30, "medium": 20, "heavy": 10},
    "business": {"light": 80, "medium": 60, "heavy": 40},
}
# Pace at 97% of the limit: the spare 3% absorbs the jitter between our clock and the
# moment Zoom counts the request, so a well-behaved burst never meets a 429.
PACING = 0.97


def per_second(category: Category) -> int:
    overrides: dict[str, int] = getattr(settings, "ZOOM_RATE_LIMITS", {}) or {}
    return overrides.get(category, PLAN_LIMITS[settings.ZOOM_PLAN][category])


def _bucket(category: Category) -> RateLimitBucket:
    """The category's row, locked for this transaction (created on first use).

    One query on every Zoom call; the create happens once per database.
    """
    try:
        return RateLimitBucket.objects.select_for_update().get(category=category)
    except RateLimitBucket.DoesNotExist:
        RateLimitBucket.objects.get_or_create(category=category)
        return RateLimitBucket.objects.select_for_update().get(category=category)


def reserve(category: Category, *, not_after: float) -> float:
    """Reserve the category's next send slot and return its time (epoch seconds).

    Writes one row under a lock. Raises ``ZoomRateLimited`` without reserving when the
    category is blocked by a daily limit or when the slot would come after
    ``not_after`` (the caller's deadline).
    """
    limit = per_second(category)
    interval = 1.0 / (limit * PACING)
    with transaction.atomic():
        bucket = _bucket(category)
        now = time.time()
        if bucket.blocked_until > now:
            raise daily_limit_error(category, bucket.blocked_until)
        slot = max(now, bucket.next_slot)
        if slot > not_after:
            raise ZoomRateLimited(
                f"So many Zoom requests are queued that this one could not be sent within "
                f"the time allowed (Zoom allows {limit} per second)."
            )
        bucket.next_slot = slot + interval
        bucket.save(update_fields=["next_slot"])
    return slot


def wait_for_slot(
    category: Category, *, not_after: float, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Block until this call may be sent. See ``reserve``."""
    delay = reserve(category, not_after=not_after) - time.time()
    if delay > 0:
        sleep(delay)


def hold_back(category: Category, seconds: float) -> None:
    """After a QPS 429 (other apps share the account's quota): everyone waits."""
    until = time.time() + seconds
    with transaction.atomic():
        bucket = _bucket(category)
        if bucket.next_slot < until:
            bucket.next_slot = until
            bucket.save(update_fields=["next_slot"])


def block_until(category: Category, until: float) -> None:
    """After a daily-limit 429: fail fast, without calling Zoom, until ``until``."""
    with transaction.atomic():
        bucket = _bucket(category)
        bucket.blocked_until = max(bucket.blocked_until, until)
        bucket.save(update_fields=["blocked_until"])


def daily_limit_error(category: Category, until: float) -> ZoomRateLimited:
    return ZoomRateLimited(
        f"Zoom's daily limit for {category} requests is used up, so nothing was sent.",
        resets_at=datetime.fromtimestamp(until, tz=UTC),
        status=429,
        code=429,
    )
