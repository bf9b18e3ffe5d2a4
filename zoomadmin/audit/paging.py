"""Keyset pages of the audit log: newest first, stable while rows arrive.

The order is (created_at, id), newest first. ``created_at`` leads so that a date range,
alone or after any other filter, is a range of the same index the page is read from
(models.py); the id breaks ties and is the cursor in the URL (``before``/``after``: the
id of the last or first row of the page the link was on). For what the application
writes, created_at is stamped under the append lock, so this is also the chain order,
and a row that arrives later sorts after every row already shown: a page, once read,
never shifts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from zoomadmin.audit.models import AuditEvent

NEWEST_FIRST = ("-created_at", "-id")
OLDEST_FIRST = ("created_at", "id")
Anchor = tuple[datetime, int]


@dataclass(frozen=True)
class Page:
    rows: list[AuditEvent]
    newer: int | None  # the ``after`` cursor of the newer page, if there is one
    older: int | None  # the ``before`` cursor of the older page, if there is one


def anchor(cursor: int) -> Anchor | None:
    """The sort key of the row a cursor names (None for an id no row has). One lookup."""
    found = AuditEvent.objects.filter(pk=cursor).values_list("created_at", "id").first()
    return (found[0], found[1]) if found else None


def older_than(events: QuerySet[AuditEvent], cursor: int) -> QuerySet[AuditEvent]:
    """Rows after the cursor's row in the page order (older ones)."""
    key = anchor(cursor)
    if key is None:  # a hand-typed id: the best one can do is compare ids
        return events.filter(id__lt=cursor)
    return _older_than_key(events, key)


def newer_than(events: QuerySet[AuditEvent], cursor: int) -> QuerySet[AuditEvent]:
    """Rows before the cursor's row in the page order (newer ones)."""
    key = anchor(cursor)
    if key is None:
        return events.filter(id__gt=cursor)
    return _newer_than_key(events, key)


def _older_than_key(events: QuerySet[AuditEvent], key: Anchor) -> QuerySet[AuditEvent]:
    at, row_id = key
    # The redundant created_at <= at is what the index can seek to; the OR is the tie.
    return events.filter(created_at__lte=at).filter(Q(created_at__lt=at) | Q(id__lt=row_id))


def _newer_than_key(events: QuerySet[AuditEvent], key: Anchor) -> QuerySet[AuditEvent]:
    at, row_id = key
    return events.filter(created_at__gte=at).filter(Q(created_at__gt=at) | Q(id__gt=row_id))


def page_of(
    events: QuerySet[AuditEvent],
    filtered: QuerySet[AuditEvent],
    *,
    before: int | None = None,
    after: int | None = None,
    size: int,
) -> Page:
    """The page of ``events`` before or after a cursor (the newest page without one).

    ``filtered`` is ``events`` without prefetches, for the cheap existence checks. Costs
    one index range read of ``size + 1`` rows, plus a primary-key lookup or two for the
    cursor. The row beyond the page says whether there is a page beyond it; the page the
    cursor came from is on the other side. (Asking "is there any matching row newer than
    this?" instead costs, for a narrow filter far back in time, a scan of every newer
    row.)
    """
    if after is not None:
        fetched = list(newer_than(events, after).order_by(*OLDEST_FIRST)[: size + 1])
        rows = fetched[:size][::-1]
        has_newer = len(fetched) > size
        has_older = bool(rows) and _beyond(filtered, after, rows[-1], older=True)
    else:
        older = older_than(events, before) if before is not None else events
        fetched = list(older.order_by(*NEWEST_FIRST)[: size + 1])
        rows = fetched[:size]
        has_older = len(fetched) > size
        has_newer = bool(rows) and before is not None and _beyond(filtered, before, rows[0])
    return Page(
        rows=rows,
        newer=rows[0].id if has_newer else None,
        older=rows[-1].id if has_older else None,
    )


def _beyond(
    filtered: QuerySet[AuditEvent], cursor: int, edge: AuditEvent, *, older: bool = False
) -> bool:
    """Whether a matching row lies past ``edge`` on the cursor's side.

    The cursor is normally a row of the page it came from, which matches the filter: one
    primary-key lookup says so. Only a cursor typed by hand needs the general question.
    """
    if filtered.filter(id=cursor).exists():
        return True
    # ``edge`` is a row in hand: its sort key needs no lookup.
    key = (edge.created_at, edge.id)
    side = _older_than_key(filtered, key) if older else _newer_than_key(filtered, key)
    return side.exists()
