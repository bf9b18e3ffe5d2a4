"""A circuit breaker shared by all processes: stop calling a Zoom that keeps failing.

After ``FAILURE_THRESHOLD`` calls in a row have failed (5xx, timeouts, Zoom
unreachable; not 4xx answers, which show Zoom is up), calls are refused for
``OPEN_SECONDS`` without reaching Zoom. The first call after that is the trial: a
success closes the circuit, a failure opens it again at once.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from zoomadmin.zoom.errors import ZoomError, ZoomUnavailable
from zoomadmin.zoom.models import ZoomCircuit

FAILURE_THRESHOLD = 3
OPEN_SECONDS = 30.0
NAME = "api"


def ensure_closed() -> int:
    """Raise ``ZoomUnavailable`` while the circuit is open; else the failures counted so
    far, so a caller that succeeds knows whether there is anything to reset. One read."""
    row = ZoomCircuit.objects.filter(name=NAME).only("open_until", "consecutive_failures").first()
    if row is None:
        return 0
    if row.open_until > time.time():
        raise ZoomUnavailable(
            "Zoom has failed several times in a row, so the dashboard has paused calls "
            "to Zoom for a short while.",
            reopens_at=datetime.fromtimestamp(row.open_until, tz=UTC),
        )
    return row.consecutive_failures


def record_success() -> None:
    """Zoom answered: close the circuit. Writes only if it was not already closed."""
    ZoomCircuit.objects.filter(name=NAME, consecutive_failures__gt=0).update(
        consecutive_failures=0, open_until=0.0
    )


def record_failure(error: ZoomError) -> None:
    """Count a failed call; open the circuit at the threshold. Writes one row."""
    with transaction.atomic():
        ZoomCircuit.objects.get_or_create(name=NAME)
        row = ZoomCircuit.objects.select_for_update().get(name=NAME)
        row.consecutive_failures = F("consecutive_failures") + 1
        row.last_error = error.explanation[:1000]
        row.last_error_at = timezone.now()
        row.save(update_fields=["consecutive_failures", "last_error", "last_error_at"])
        row.refresh_from_db(fields=["consecutive_failures"])
        if row.consecutive_failures >= FAILURE_THRESHOLD:
            row.open_until = time.time() + OPEN_SECONDS
            row.save(update_fields=["open_until"])


def record_error(error: ZoomError) -> None:
    """Remember Zoom's latest refusal for the connection page, without counting it."""
    ZoomCircuit.objects.update_or_create(
        name=NAME,
        defaults={"last_error": error.explanation[:1000], "last_error_at": timezone.now()},
    )
