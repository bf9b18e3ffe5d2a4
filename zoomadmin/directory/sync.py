"""Pull Zoom's user directory into ``DirectoryUser``: every status, every page.

``GET /users`` pages through the account (ZOOM_API.md 2.1), 2,000 users a call, within
the Medium rate limit that the Zoom client paces. Each page is written in its own short
transaction, never one over the whole run; a run that fails part-way is recorded as
failed, and the next run starts from the first page (page tokens expire after 15
minutes, so there is nothing to resume) and completes the job. Only a complete run marks
users that Zoom no longer lists as gone. One run at a time: the running ``SyncRun`` row
is the lock (a partial unique index), across processes and machines.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from queue import Full, Queue
from typing import Any, cast

import psycopg
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from zoomadmin.directory.models import DirectoryUser, SyncRun
from zoomadmin.directory.text import fold, name_words, search_text
from zoomadmin.zoom import client
from zoomadmin.zoom.client import ZoomUser
from zoomadmin.zoom.errors import ZoomBadResponse, ZoomError

logger = logging.getLogger(__name__)

STATUSES = ("active", "inactive", "pending")
PAGE_SIZE = client.LIST_USERS_MAX_PAGE_SIZE
# A running row whose heartbeat is older than this was left by a worker that died: a page
# takes well under a minute even at Free's 2 requests a second, and Zoom's page tokens
# die after 15 minutes anyway.
STALE_AFTER = timedelta(minutes=10)
# Bounds the paging loop if Zoom ever sent page tokens forever: 20 million users.
MAX_PAGES_PER_STATUS = 10_000
PENDING_KEY_PREFIX = "email:"

# The fields a list item sets; login types are not among them (a list item has none).
CONTENT_FIELDS = (
    "zoom_id",
    "email",
    "email_key",
    "first_name",
    "last_name",
    "display_name",
    "dept",
    "user_type",
    "status",
    "role_id",
    "last_login_time",
    "search_text",
    "sort_name",
)
LISTED_FIELDS = (*CONTENT_FIELDS, "listed_digest")
# What a page needs to know of a row it may touch: how to match it, and whether it changed.
KNOWN_FIELDS = ("zoom_id", "status", "email_key", "listed_digest")


class SyncAlreadyRunning(Exception):
    """Another sync holds the lock; this one did nothing."""

    def __init__(self, running: SyncRun | None) -> None:
        super().__init__("a directory sync is already running")
        self.running = running


def run_sync(
    *,
    trigger: SyncRun.Trigger,
    requested_by: str = "",
    page_size: int = PAGE_SIZE,
) -> SyncRun:
    """Run one full sync and return its finished ``SyncRun``.

    Calls Zoom once per page (about one call per 2,000 users, in each of the three
    statuses) and writes one short transaction per page. On PostgreSQL the next page is
    fetched in a thread while this one is written (not inside a caller's transaction,
    which the thread could not see, nor on SQLite, whose writers lock each other out).
    A ``ZoomError`` ends the run as failed, with the error recorded; any other exception
    does too, and is re-raised. Raises ``SyncAlreadyRunning`` when another sync is
    running. Never holds a transaction over the run.
    """
    run = start_run(trigger=trigger, requested_by=requested_by)
    seen: set[str] = set()
    where = "the start"
    pages = _pages(page_size)
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        pages = _prefetched(pages)
    try:
        for position, users, values in pages:
            where = position
            seen.update(save_page(run, users, values))
    except _FetchFailed as failed:
        return _finish_failed(run, f"Stopped at {failed.where}: {failed.error.explanation}")
    except BaseException:
        _finish_failed(run, f"Stopped at {where} by an internal error.")
        raise
    return _finish_complete(run, seen)


class _FetchFailed(Exception):
    def __init__(self, where: str, error: ZoomError) -> None:
        super().__init__(where)
        self.where = where
        self.error = error


Page = tuple[str, list[ZoomUser], list[dict[str, object]]]


def _pages(page_size: int) -> Iterator[Page]:
    """Every page of every status, in order, as ("page 3 of the active users", users,
    their ``listed_values``): computed here, so with the prefetch thread that work
    overlaps the database writes of the page before.

    One Zoom call per page. Raises ``_FetchFailed`` saying which page failed.
    """
    for status in STATUSES:
        token = ""
        for number in range(1, MAX_PAGES_PER_STATUS + 1):
            where = f"page {number} of the {status} users"
            try:
                page = client.list_users_page(status, page_size=page_size, next_page_token=token)
            except ZoomError as error:
                raise _FetchFailed(where, error) from error
            yield where, page.users, [listed_values(user) for user in page.users]
            token = page.next_page_token
            if not token:
                break
        else:
            too_many = ZoomBadResponse(f"Zoom sent more than {MAX_PAGES_PER_STATUS} pages.")
            raise _FetchFailed(where, too_many)


def _prefetched[T](items: Iterator[T], depth: int = 4) -> Iterator[T]:
    """``items``, produced by a thread up to ``depth`` ahead of the consumer.

    Zoom's answer for the next page (and its parsing) then overlaps the database writes
    of this one, so the sync keeps to the rate limiter's pace. The thread's own database
    connection (the token store, the rate limiter) is closed when it ends; it stops
    early when the consumer does.
    """
    done = object()
    queue: Queue[tuple[object, T | BaseException | None]] = Queue(maxsize=depth)
    stop = threading.Event()

    def put(kind: object, value: T | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                queue.put((kind, value), timeout=0.2)
            except Full:
                continue
            return True
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put("item", item):
                    return
            put(done, None)
        except BaseException as error:  # handed to the consumer, which raises it
            put("error", error)
        finally:
            connection.close()

    thread = threading.Thread(target=produce, name="directory-sync-fetch", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = queue.get()
            if kind is done:
                return
            if isinstance(value, BaseException):
                raise value
            yield cast(T, value)
    finally:
        stop.set()
        thread.join()


def start_run(*, trigger: SyncRun.Trigger, requested_by: str = "") -> SyncRun:
    """Take the sync lock: insert the one running ``SyncRun``. Writes one or two rows.

    A running row left by a dead worker (no heartbeat for ``STALE_AFTER``) is closed as
    failed first, so a crash never blocks syncing for good.
    Raises ``SyncAlreadyRunning`` when a live sync holds the lock.
    """
    now = timezone.now()
    release_stale_runs(now)
    try:
        with transaction.atomic():
            return SyncRun.objects.create(
                trigger=trigger, requested_by=requested_by, started_at=now, heartbeat_at=now
            )
    except IntegrityError:
        raise SyncAlreadyRunning(running_sync()) from None


def release_stale_runs(now: datetime) -> int:
    """Close running rows whose worker stopped sending heartbeats. Returns how many."""
    return SyncRun.objects.filter(
        status=SyncRun.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER
    ).update(
        status=SyncRun.Status.FAILED,
        finished_at=now,
        error=f"Abandoned: no progress for {STALE_AFTER.seconds // 60} minutes "
        "(the worker running it stopped).",
    )


def running_sync() -> SyncRun | None:
    return SyncRun.objects.filter(status=SyncRun.Status.RUNNING).first()


@dataclass(frozen=True)
class _Listed:
    """One user of a page, resolved to the directory row it belongs to."""

    key: str
    values: dict[str, object]  # LISTED_FIELDS


@dataclass(frozen=True)
class _Known:
    """What the directory holds for a row a page may touch."""

    key: str
    gone: bool
    values: dict[str, object]  # KNOWN_FIELDS


def save_page(
    run: SyncRun, users: list[ZoomUser], values: list[dict[str, object]] | None = None
) -> list[str]:
    """Upsert one page of users, count it on ``run``; the keys of the rows it listed.

    One transaction of a few statements; a user whose listed fields did not change is
    not written at all. A user is matched by Zoom id; a pending user (listed without an
    id) by email. A row first known by email (pending) is taken over by its id once Zoom
    lists one, so the person keeps one row; an email change updates the row of that id.
    """
    now = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Don't wait for this page's WAL to reach the disk: a crash can lose at most
            # the last few pages, which the next sync writes again. (This transaction
            # only; the audit log's commits stay synchronous.)
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        known = _known_rows(users)
        # Pending users a fresh lookup gave an id to, by email (see _resolve).
        looked_up = {
            row.values["email_key"]: row
            for row in known.values()
            if row.values["status"] == "pending" and row.key == row.values["zoom_id"]
        }
        listed: dict[str, _Listed] = {}
        adopt: dict[str, str] = {}  # pending key -> Zoom id
        if values is None:
            values = [listed_values(user) for user in users]
        for user, user_values in zip(users, values, strict=True):
            item = _resolve(user, user_values, known, looked_up, adopt)
            listed[item.key] = item  # a user listed twice in one page is written once
        for old_key, new_key in adopt.items():
            DirectoryUser.objects.filter(key=old_key).update(key=new_key, zoom_id=new_key)
            known[new_key] = known.pop(old_key)

        created, changed = [], []
        for item in listed.values():
            row = known.get(item.key)
            if row is None:
                created.append(item)
            elif (
                row.gone
                or item.key in adopt.values()
                or row.values["listed_digest"] != item.values["listed_digest"]
            ):
                changed.append(item)
        _upsert([*created, *changed], now)
        _count(run, now, seen=len(users), created=len(created), updated=len(changed))
    return list(listed)


def _known_rows(users: list[ZoomUser]) -> dict[str, _Known]:
    """The rows a page may touch: by id or pending key, and pending rows by the email of
    a user listed without an id. PostgreSQL gets arrays, not thousands of parameters."""
    keys = [u.id for u in users if u.id] + [PENDING_KEY_PREFIX + u.email.lower() for u in users]
    emails = [u.email.lower() for u in users if not u.id]
    fields = ["key", "gone_at", *KNOWN_FIELDS]
    if connection.vendor == "postgresql":
        table, columns = _table(), ", ".join(_column(name) for name in fields)
        with _bound_cursor() as cursor:
            cursor.execute(
                f"SELECT {columns} FROM {table} WHERE key = ANY(%b::varchar[]) OR "  # noqa: S608 - our own names
                "(email_key = ANY(%b::varchar[]) AND status = 'pending' AND gone_at IS NULL)",
                [keys, emails],
            )
            rows = cursor.fetchall()
    else:
        rows = list(
            DirectoryUser.objects.filter(
                Q(key__in=keys) | Q(email_key__in=emails, status="pending", gone_at__isnull=True)
            ).values_list(*fields)
        )
    return {
        row[0]: _Known(
            key=row[0],
            gone=row[1] is not None,
            values=dict(zip(KNOWN_FIELDS, row[2:], strict=True)),
        )
        for row in rows
    }


def _upsert(items: list[_Listed], now: datetime) -> None:
    """Insert or update these rows by key: one statement (``unnest`` of one array per
    column on PostgreSQL; batched ``INSERT ... ON CONFLICT`` elsewhere)."""
    if not items:
        return
    if connection.vendor != "postgresql":
        DirectoryUser.objects.bulk_create(
            [
                DirectoryUser(
                    key=i.key, first_seen_at=now, changed_at=now, gone_at=None, **i.values
                )
                for i in items
            ],
            update_conflicts=True,
            unique_fields=["key"],
            update_fields=[*LISTED_FIELDS, "changed_at", "gone_at"],
        )
        return
    count = len(items)
    columns: dict[str, list[object]] = {
        "key": [i.key for i in items],
        "first_seen_at": [now] * count,
        "changed_at": [now] * count,
        "gone_at": [None] * count,
        **{name: [i.values[name] for i in items] for name in LISTED_FIELDS},
    }
    meta = DirectoryUser._meta
    # %b: arrays sent in binary, several times cheaper to build than their text form.
    arrays = ", ".join(f"%b::{meta.get_field(name).db_type(connection)}[]" for name in columns)
    updates = ", ".join(
        f"{_column(name)} = EXCLUDED.{_column(name)}"
        for name in [*LISTED_FIELDS, "changed_at", "gone_at"]
    )
    with _bound_cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table()} ({', '.join(_column(n) for n in columns)}) "  # noqa: S608 - our own names
            f"SELECT * FROM unnest({arrays}) "
            f"ON CONFLICT ({_column('key')}) DO UPDATE SET {updates}",
            list(columns.values()),
        )


def _bound_cursor() -> psycopg.Cursor[tuple[Any, ...]]:
    """A psycopg cursor that sends parameters apart from the SQL (server-side binding).

    Django's own cursor quotes every parameter into the SQL text in Python; for a page's
    arrays of 2,000 values that quoting costs more than the database's work. Same
    connection, same transaction.
    """
    connection.ensure_connection()
    raw = connection.connection
    if not isinstance(raw, psycopg.Connection):
        raise TypeError("the PostgreSQL backend should hold a psycopg connection")
    return psycopg.Cursor(raw)


def _table() -> str:
    return connection.ops.quote_name(DirectoryUser._meta.db_table)


def _column(name: str) -> str:
    field = DirectoryUser._meta.get_field(name)
    column = getattr(field, "column", None)
    if not isinstance(column, str):
        raise TypeError(f"{name} is not a column")
    return connection.ops.quote_name(column)


def _resolve(
    user: ZoomUser,
    values: dict[str, object],
    known: dict[str, _Known],
    looked_up: dict[object, _Known],
    adopt: dict[str, str],
) -> _Listed:
    email_key = user.email.lower()
    pending_key = PENDING_KEY_PREFIX + email_key
    if user.id:
        if user.id not in known and pending_key in known:
            adopt[pending_key] = user.id  # Zoom now tells us the id of a pending user
        return _Listed(key=user.id, values=values)
    row = known.get(pending_key) or looked_up.get(email_key)
    if row is not None and row.values["zoom_id"]:
        # A pending user whose id a fresh lookup already found: keep that row and its id.
        return _Listed(key=row.key, values={**values, "zoom_id": row.values["zoom_id"]})
    return _Listed(key=pending_key, values=values)


def listed_values(user: ZoomUser) -> dict[str, object]:
    """A Zoom user as the directory's listed fields (everything but login types)."""
    words = name_words(user.first_name, user.last_name, user.display_name)
    values: dict[str, object] = {
        "zoom_id": user.id,
        "email": user.email,
        "email_key": user.email.lower(),
        "first_name": user.first_name[:128],
        "last_name": user.last_name[:128],
        "display_name": user.display_name[:256],
        "dept": user.dept[:256],
        "user_type": max(0, min(user.type, 32767)),
        "status": user.status[:16],
        "role_id": user.role_id[:64],
        "last_login_time": user.last_login_time,
        "search_text": search_text(words),
        "sort_name": fold(user.name)[:256],
    }
    content = repr(tuple(values[name] for name in CONTENT_FIELDS)).encode()
    values["listed_digest"] = hashlib.blake2b(content, digest_size=16).hexdigest()
    return values


def _count(run: SyncRun, now: datetime, *, seen: int, created: int, updated: int) -> None:
    SyncRun.objects.filter(pk=run.pk).update(
        pages=F("pages") + 1,
        seen=F("seen") + seen,
        created=F("created") + created,
        updated=F("updated") + updated,
        heartbeat_at=now,
    )
    run.pages += 1
    run.seen += seen
    run.created += created
    run.updated += updated
    run.heartbeat_at = now


def _finish_complete(run: SyncRun, seen: set[str]) -> SyncRun:
    """Every page of every status is in: whoever this run did not see is gone."""
    now = timezone.now()
    with transaction.atomic():
        candidates = (
            DirectoryUser.objects.filter(gone_at__isnull=True)
            # Looked up fresh while this run paged: Zoom has them, whatever the pages said
            # (a user who changed status between the pages of two statuses).
            .exclude(refreshed_at__gte=run.started_at)
            .values_list("key", flat=True)
        )
        missing = [key for key in candidates.iterator(chunk_size=10_000) if key not in seen]
        for start in range(0, len(missing), 500):
            batch = missing[start : start + 500]
            DirectoryUser.objects.filter(key__in=batch).update(gone_at=now, changed_at=now)
        run.status = SyncRun.Status.SUCCEEDED
        run.finished_at = run.heartbeat_at = now
        run.gone = len(missing)
        run.save(update_fields=["status", "finished_at", "heartbeat_at", "gone"])
    if connection.vendor == "postgresql" and run.created + run.updated + run.gone > 1000:
        # Fresh statistics now, not whenever autovacuum comes by: the search's plans
        # depend on them, and a first sync has just filled an empty table.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {_table()}")
    logger.info(
        "directory sync #%s: %s pages, %s seen, %s created, %s updated, %s gone",
        run.pk,
        run.pages,
        run.seen,
        run.created,
        run.updated,
        run.gone,
    )
    return run


def _finish_failed(run: SyncRun, error: str) -> SyncRun:
    now = timezone.now()
    run.status = SyncRun.Status.FAILED
    run.finished_at = run.heartbeat_at = now
    run.error = error[:2000]
    run.save(update_fields=["status", "finished_at", "heartbeat_at", "error"])
    logger.warning("directory sync #%s failed after %s pages: %s", run.pk, run.pages, error)
    return run
