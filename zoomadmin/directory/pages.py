"""Writing one page of Zoom's user list into ``DirectoryUser``, as cheaply as it can be.

A sync writes up to 2,000 users a page, at Zoom's pace (one page every 50 ms on Pro), so
the write must cost less than that. Two things make it cheap:

- ``Snapshot``: the directory's digests, read once when the run starts and kept up to
  date with what the run writes. An unchanged user is recognised in memory, without
  reading the page's rows back, and a user the snapshot has never seen is new.
- New users go in with ``COPY`` (a plain insert on SQLite), several times cheaper for
  the database than an upsert. If someone inserted one of them since the snapshot (a
  fresh lookup from the search page), the copy fails on the unique key, the page's
  transaction is rolled back, and the page is written again the careful way: its rows
  read back, every write an upsert.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any

import psycopg
from django.db import IntegrityError, connection
from django.db.models import Q
from django.utils import timezone

from zoomadmin.directory.models import DirectoryUser
from zoomadmin.directory.text import fold, name_words, search_text
from zoomadmin.zoom.client import ZoomUser

PENDING_KEY_PREFIX = "email:"

# The fields a list item sets; login types are not among them (a list item has none).
LISTED_FIELDS = (
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
    "listed_digest",
)
_listed = itemgetter(*LISTED_FIELDS)
# Part of every digest: bump it when listed_values derives its fields differently, and
# the next sync rewrites every row once.
DERIVATION = 1
# A COPY in binary names each column's wire type; these are the ones listed rows use.
_COPY_TYPES = {
    "CharField": "text",
    "TextField": "text",
    "DateTimeField": "timestamptz",
    "PositiveSmallIntegerField": "int2",
}


def listed_values(user: ZoomUser, digest: str | None = None) -> dict[str, object]:
    """A Zoom user as the directory's listed fields (everything but login types);
    ``digest``, when given, is ``listing_digest(user)``."""
    return {
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
        "search_text": search_text(name_words(user.first_name, user.last_name, user.display_name)),
        "sort_name": fold(user.name)[:256],
        "listed_digest": digest or listing_digest(user),
    }


def listing_digest(user: ZoomUser) -> str:
    """A digest of what a list item says about a user (and of ``DERIVATION``).

    Taken from Zoom's fields rather than the derived ones, so that a sync can tell an
    unchanged user without deriving anything. 128 bits: a change is never mistaken for
    no change.
    """
    login = user.last_login_time.timestamp() if user.last_login_time else None
    content = (
        DERIVATION,
        user.id,
        user.email,
        user.first_name,
        user.last_name,
        user.display_name,
        user.dept,
        user.type,
        user.status,
        user.role_id,
        login,
    )
    return hashlib.blake2b(repr(content).encode(), digest_size=16).hexdigest()


@dataclass
class Snapshot:
    """Every directory row's listed digest (``None``: marked gone), as of the run's start
    plus what the run has written since. About 175 bytes a user in memory (measured)."""

    digests: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Snapshot:
        """Read the directory's keys and digests: one pass over the table (on PostgreSQL
        straight into a dict, several times faster than through model rows)."""
        if connection.vendor == "postgresql":
            sql = (
                f"SELECT {_column('key')}, CASE WHEN {_column('gone_at')} IS NULL "  # noqa: S608 - our own names
                f"THEN {_column('listed_digest')} END FROM {_table()}"
            )
            with _bound_cursor() as cursor:
                cursor.execute(sql, binary=True)
                return cls(dict(cursor.fetchall()))
        rows = DirectoryUser.objects.values_list("key", "listed_digest", "gone_at")
        return cls(
            {
                key: None if gone_at is not None else digest
                for key, digest, gone_at in rows.iterator(chunk_size=20_000)
            }
        )

    def live_keys_except(self, seen: set[str]) -> list[str]:
        """Rows not marked gone whose keys are not in ``seen``."""
        return [k for k, digest in self.digests.items() if digest is not None and k not in seen]

    def record(self, plan: PagePlan) -> None:
        """What the directory will hold once ``plan`` is written."""
        for old_key in plan.adopt:
            self.digests.pop(old_key, None)
        for item in plan.listed.values():
            self.digests[item.key] = item.digest


@dataclass(slots=True)  # not frozen: 2,000 a page, and a frozen one costs 3 times more
class _Listed:
    """One user of a page, resolved to the directory row it belongs to."""

    key: str
    user: ZoomUser
    digest: str
    zoom_id: str  # the user's id, or the one a lookup found for a pending user

    def values(self) -> dict[str, object]:
        values = listed_values(self.user, self.digest)
        values["zoom_id"] = self.zoom_id
        return values


@dataclass(frozen=True)
class _Known:
    """What the directory holds for a row a page may touch."""

    key: str
    gone: bool
    digest: str
    zoom_id: str
    # The row's email when its status is pending ("" otherwise, and for a row known
    # from the snapshot: a page's users listed without an id are always read back).
    pending_email: str


@dataclass(frozen=True)
class PagePlan:
    """What writing a page will do: the rows it lists by key, and which to write."""

    users: list[ZoomUser]
    digests: list[str]
    listed: dict[str, _Listed]
    adopt: dict[str, str]  # pending key -> Zoom id
    created: list[_Listed]
    changed: list[_Listed]
    # Made from a snapshot: the rows in ``created`` are new unless someone inserted one
    # since, which ``apply_plan`` then finds out.
    from_snapshot: bool


def plan_page(users: list[ZoomUser], digests: list[str], snapshot: Snapshot | None) -> PagePlan:
    """Decide what writing this page takes. Reads rows back only where ``snapshot``
    cannot tell (all of them without one). ``digests``: ``listing_digest`` of each user.

    A user whose listed fields did not change is not written at all. A user is matched
    by Zoom id; a pending user (listed without an id) by email. A row first known by
    email (pending) is taken over by its id once Zoom lists one, so the person keeps one
    row; an email change updates the row of that id.
    """
    known = _known_rows(users) if snapshot is None else _known_from(snapshot, users)
    # Pending users a fresh lookup gave an id to, by email (see _resolve).
    looked_up = {
        row.pending_email: row
        for row in known.values()
        if row.pending_email and row.key == row.zoom_id
    }
    listed: dict[str, _Listed] = {}
    adopt: dict[str, str] = {}
    for user, digest in zip(users, digests, strict=True):
        item = _resolve(user, digest, known, looked_up, adopt)
        listed[item.key] = item  # a user listed twice in one page is written once
    for old_key, new_key in adopt.items():
        known[new_key] = known.pop(old_key)
    created, changed = [], []
    for item in listed.values():
        row = known.get(item.key)
        if row is None:
            created.append(item)
        elif row.gone or item.key in adopt.values() or row.digest != item.digest:
            changed.append(item)
    return PagePlan(users, digests, listed, adopt, created, changed, snapshot is not None)


def apply_plan(plan: PagePlan) -> None:
    """Write what the plan says, inside the caller's transaction.

    A plan made from a snapshot copies its new rows in; if one exists after all (a
    fresh lookup inserted it meanwhile), this raises ``IntegrityError`` and the caller
    rolls back and writes the page again from a plan made without the snapshot.
    """
    now = timezone.now()
    for old_key, new_key in plan.adopt.items():
        DirectoryUser.objects.filter(key=old_key).update(key=new_key, zoom_id=new_key)
    if plan.from_snapshot:
        try:
            _insert(plan.created, now)
        except psycopg.IntegrityError as error:  # raised by COPY, past Django's wrapper
            raise IntegrityError(str(error)) from error
        _upsert(plan.changed, now)
    else:
        _upsert([*plan.created, *plan.changed], now)


def _known_from(snapshot: Snapshot, users: list[ZoomUser]) -> dict[str, _Known]:
    """The rows a page may touch, from the snapshot where it can tell.

    Read back from the database: users listed without an id, and users whose pending
    row exists (about to be adopted), since what a lookup taught those rows (an id) is
    not in the snapshot. Everyone else is matched by id against the snapshot.
    """
    digests = snapshot.digests
    careful = [u for u in users if not u.id or PENDING_KEY_PREFIX + u.email.lower() in digests]
    known = _known_rows(careful) if careful else {}
    for user in users:
        if user.id and user.id not in known and user.id in digests:
            digest = digests[user.id]
            known[user.id] = _Known(
                key=user.id,
                gone=digest is None,
                digest=digest or "",
                zoom_id=user.id,
                pending_email="",
            )
    return known


def _known_rows(users: list[ZoomUser]) -> dict[str, _Known]:
    """The rows a page may touch, read from the database: by id or pending key, and
    pending rows by the email of a user listed without an id. PostgreSQL gets arrays,
    not thousands of parameters."""
    keys = [u.id for u in users if u.id] + [PENDING_KEY_PREFIX + u.email.lower() for u in users]
    emails = [u.email.lower() for u in users if not u.id]
    fields = ["key", "gone_at", "listed_digest", "zoom_id", "status", "email_key"]
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
        key: _Known(
            key=key,
            gone=gone_at is not None,
            digest=digest,
            zoom_id=zoom_id,
            pending_email=email_key if status == "pending" else "",
        )
        for key, gone_at, digest, zoom_id, status, email_key in rows
    }


def _resolve(
    user: ZoomUser,
    digest: str,
    known: dict[str, _Known],
    looked_up: dict[str, _Known],
    adopt: dict[str, str],
) -> _Listed:
    if user.id:
        if known and user.id not in known:
            pending_key = PENDING_KEY_PREFIX + user.email.lower()
            if pending_key in known:
                adopt[pending_key] = user.id  # Zoom now tells us the id of a pending user
        return _Listed(key=user.id, user=user, digest=digest, zoom_id=user.id)
    email_key = user.email.lower()
    pending_key = PENDING_KEY_PREFIX + email_key
    row = known.get(pending_key) or looked_up.get(email_key)
    if row is not None and row.zoom_id:
        # A pending user whose id a fresh lookup already found: keep that row and its id.
        return _Listed(key=row.key, user=user, digest=digest, zoom_id=row.zoom_id)
    return _Listed(key=pending_key, user=user, digest=digest, zoom_id="")


def _insert(items: list[_Listed], now: datetime) -> None:
    """Insert rows that must be new; fails on the unique key if one is not.

    PostgreSQL: ``COPY ... FROM STDIN`` in binary, the cheapest way in for both sides.
    """
    if not items:
        return
    if connection.vendor != "postgresql":
        DirectoryUser.objects.bulk_create(_models(items, now))
        return
    columns = ("key", "first_seen_at", "changed_at", *LISTED_FIELDS)
    names = ", ".join(_column(name) for name in columns)
    sql = f"COPY {_table()} ({names}) FROM STDIN (FORMAT BINARY)"
    with _bound_cursor() as cursor, cursor.copy(sql) as copy:
        copy.set_types([_copy_type(name) for name in columns])
        for item in items:
            copy.write_row((item.key, now, now, *_listed(item.values())))


def _upsert(items: list[_Listed], now: datetime) -> None:
    """Insert or update these rows by key: one statement (``unnest`` of one array per
    column on PostgreSQL; batched ``INSERT ... ON CONFLICT`` elsewhere)."""
    if not items:
        return
    if connection.vendor != "postgresql":
        DirectoryUser.objects.bulk_create(
            _models(items, now),
            update_conflicts=True,
            unique_fields=["key"],
            update_fields=[*LISTED_FIELDS, "changed_at", "gone_at"],
        )
        return
    count = len(items)
    rows = [item.values() for item in items]
    columns: dict[str, list[object]] = {
        "key": [i.key for i in items],
        "first_seen_at": [now] * count,
        "changed_at": [now] * count,
        "gone_at": [None] * count,
        **{name: [row[name] for row in rows] for name in LISTED_FIELDS},
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


def mark_gone(keys: list[str], *, unless_refreshed_since: datetime) -> int:
    """Mark these rows gone, except rows a fresh lookup saw since the given time (Zoom
    had them then, whatever the pages said). Returns how many rows it marked. Batches
    of 500 keys keep each statement within SQLite's parameter limit."""
    now = timezone.now()
    marked = 0
    for start in range(0, len(keys), 500):
        marked += (
            DirectoryUser.objects.filter(key__in=keys[start : start + 500], gone_at__isnull=True)
            .exclude(refreshed_at__gte=unless_refreshed_since)
            .update(gone_at=now, changed_at=now)
        )
    return marked


def _models(items: list[_Listed], now: datetime) -> list[DirectoryUser]:
    """Rows as model instances for ``bulk_create`` (SQLite), as a sync writes them."""
    return [
        DirectoryUser(key=i.key, first_seen_at=now, changed_at=now, gone_at=None, **i.values())
        for i in items
    ]


def relax_commit() -> None:
    """Don't wait for this transaction's WAL to reach the disk (PostgreSQL): a crash can
    lose at most the last few pages, which the next sync writes again. This transaction
    only; the audit log's commits stay synchronous."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


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
    column = getattr(DirectoryUser._meta.get_field(name), "column", None)
    if not isinstance(column, str):
        raise TypeError(f"{name} is not a column")
    return connection.ops.quote_name(column)


def _copy_type(name: str) -> str:
    return _COPY_TYPES[DirectoryUser._meta.get_field(name).get_internal_type()]
