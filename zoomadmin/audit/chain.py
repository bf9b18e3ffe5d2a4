"""The audit log's hash chain: what a row's hash covers, and how a row joins the chain.

Every row carries a gap-free sequence number ``seq`` (1, 2, 3, ...), the previous row's
hash ``prev_hash`` and its own ``row_hash``: the SHA-256 of the canonical serialization
of every other column (``HASHED_FIELDS``, ``prev_hash`` included). Editing a row changes
its hash; rewriting the hash breaks the next row's ``prev_hash``; deleting a row leaves
a gap in ``seq``. ``zoomadmin.audit.verify`` walks the chain and says which.

Format version 1, fixed forever: rows already written were hashed this way, so any
change to the serialization needs a new version number and a verifier that knows both.

Appends are serialized: on PostgreSQL with a transaction-level advisory lock taken
before the head is read; on SQLite by the database itself (``transaction_mode=IMMEDIATE``
makes every transaction take the write lock when it begins). The lock is held until the
transaction that appended commits, so a row appended inside a long transaction holds up
every other audit write: append from short transactions (``record()`` uses its own).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.db import connections
from django.utils import timezone

if TYPE_CHECKING:
    from zoomadmin.audit.models import AuditEvent

CHAIN_VERSION = 1
GENESIS_HASH = "0" * 64
# pg_advisory_xact_lock key of the append; any constant unlikely to clash ("zoomaudi").
APPEND_LOCK_KEY = 0x7A6F6F6D61756469

# Every column but row_hash, by attribute name. A new column must be added here (a new
# CHAIN_VERSION) or it is not covered: tests/audit/test_chain.py checks the model.
HASHED_FIELDS: tuple[str, ...] = (
    "id",
    "seq",
    "prev_hash",
    "created_at",
    "actor_id",
    "actor_username",
    "action",
    "outcome",
    "target_zoom_id",
    "target_email",
    "reason",
    "detail",
    "zoom_status",
    "zoom_error_code",
    "zoom_message",
    "zoom_tracking_id",
    "client_ip",
    "user_agent",
    "request_id",
    "intent_id",
    "submission_id",
)
# Columns that hold integers (or NULL): how text from an exported file is read back.
INTEGER_FIELDS = frozenset({"id", "seq", "actor_id", "zoom_status", "zoom_error_code", "intent_id"})
# Columns that may be NULL; an empty cell in a CSV file means NULL for these.
NULLABLE_FIELDS = frozenset(
    {"actor_id", "zoom_status", "zoom_error_code", "client_ip", "intent_id", "submission_id"}
)

Canonical = str | int | None


@dataclass(frozen=True)
class Head:
    """The newest row of the chain: keep ``str(head)`` outside the database."""

    seq: int
    row_hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.row_hash}"

    @classmethod
    def parse(cls, text: str) -> Head:
        """Read ``SEQ:HASH`` as printed by ``audit_verify``; ValueError if malformed."""
        seq, sep, row_hash = text.strip().partition(":")
        if not sep or not seq.isdigit() or not _is_sha256_hex(row_hash):
            raise ValueError(f"expected SEQ:HASH (a number, a colon, 64 hex digits), got {text!r}")
        return cls(int(seq), row_hash.lower())


EMPTY_HEAD = Head(0, GENESIS_HASH)


def _is_sha256_hex(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text)


def canonical_time(value: datetime) -> str:
    """UTC, microseconds, a trailing Z: the one spelling of a timestamp the hash sees."""
    if value.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    if value.tzinfo is not UTC:  # what the database drivers hand back needs no conversion
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _time(value: Any) -> str:
    return canonical_time(value) if isinstance(value, datetime) else str(value)


def _uuid(value: Any) -> str:
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


def _address(value: Any) -> str | None:
    # Django stores a blank address as NULL; hash what the database will hold.
    return str(value) or None


def _integer(value: Any) -> int:
    return value if type(value) is int else int(value)


def _text(value: Any) -> str:
    return value if type(value) is str else str(value)


_CANONICAL: dict[str, Any] = {
    name: _integer if name in INTEGER_FIELDS else _text for name in HASHED_FIELDS
} | {"created_at": _time, "submission_id": _uuid, "client_ip": _address}
# The serialization sorts its keys; building the object in that order lets json.dumps
# skip the sort on every row (verify and export hash a million rows).
_PAYLOAD_KEYS = tuple(sorted((*HASHED_FIELDS, "v")))
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True)


def row_digest(values: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical serialization of a row, its ``prev_hash`` included.

    Canonical: a JSON object of every hashed column plus the format version ``"v"``,
    keys sorted, no whitespace, ASCII only (non-ASCII as \\u escapes), so the bytes do
    not depend on the database, the driver or the platform. About 7 µs a row.
    """
    payload: dict[str, Canonical] = {}
    for name in _PAYLOAD_KEYS:
        if name == "v":
            payload[name] = CHAIN_VERSION
        else:
            value = values[name]
            payload[name] = None if value is None else _CANONICAL[name](value)
    return hashlib.sha256(_ENCODER.encode(payload).encode("ascii")).hexdigest()


def lock(*, using: str) -> None:
    """Take the append lock until the current transaction ends (call inside atomic()).

    PostgreSQL: a transaction-level advisory lock (re-entrant: ``link`` takes it again).
    SQLite: nothing to do, the transaction already holds the database's write lock.
    Blocks while another transaction holds it.
    """
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("chain.lock() outside a transaction would be released at once")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [APPEND_LOCK_KEY])


def link(event: AuditEvent, *, using: str) -> None:
    """Give a new ``event`` its id, ``seq``, ``prev_hash`` and ``row_hash``, under the lock,
    and its ``created_at`` unless the caller set one.

    Call inside ``transaction.atomic(using=using)`` and INSERT the row in the same
    transaction: the lock (PostgreSQL's advisory lock, SQLite's write lock) is what keeps
    two writers from taking the same ``seq`` or linking to the same head. Two queries on
    PostgreSQL (the lock, then the head and a fresh id), one on SQLite.

    The id is allocated here, not by the INSERT, because it is hashed too: the event page
    URL and every result's link to its intent are covered by the chain.
    """
    connection = connections[using]
    table = connection.ops.quote_name(type(event)._meta.db_table)
    # A statement of its own: in READ COMMITTED each statement sees what was committed
    # when it started, so the head must be read after the lock is granted.
    lock(using=using)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            next_id = f"nextval(pg_get_serial_sequence('{table}', 'id'))"
        else:
            next_id = f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table})"  # noqa: S608
        cursor.execute(
            f"SELECT {next_id}, head.seq, head.row_hash FROM (SELECT 1) AS one "  # noqa: S608 - identifiers only
            f"LEFT JOIN (SELECT seq, row_hash FROM {table} ORDER BY seq DESC LIMIT 1) AS head "
            "ON 1 = 1"
        )
        new_id, head_seq, head_hash = cursor.fetchone() or (None, None, None)
    if new_id is None:
        raise RuntimeError("the database allocated no id for an audit row")
    event.id = int(new_id)
    if event.created_at is None:
        event.created_at = timezone.now()
    event.seq = int(head_seq or 0) + 1
    event.prev_hash = head_hash or GENESIS_HASH
    event.row_hash = row_digest(event.__dict__)


def read_head(model: type[AuditEvent], *, using: str = "default") -> Head:
    """The newest row's seq and hash (``EMPTY_HEAD`` for an empty log). One indexed query."""
    newest = model._base_manager.using(using).order_by("-seq").values_list("seq", "row_hash")
    row = newest.first()
    return Head(row[0], row[1]) if row else EMPTY_HEAD
