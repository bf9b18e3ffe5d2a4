"""Audit rows as files: CSV and JSON Lines, written and read back in constant memory.

Both formats carry every hashed column plus ``row_hash`` (``EXPORT_COLUMNS``), each value
in the canonical form the hash saw (timestamps as UTC ``...Z`` strings), so a file can be
checked row by row against the chain: ``audit_verify --file``.

CSV cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) get a leading apostrophe, the spreadsheet's own
"this is text" mark. So that the guard can be undone exactly, a cell that already starts
with an apostrophe gets one more. Reading removes exactly one leading apostrophe from
any cell that has one, which gives back the stored value byte for byte; the hash is
always computed over those stored values, never over the guarded text.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, Literal

from django.db import connections, transaction
from django.db.models import CharField, Func, QuerySet
from django.db.models.functions import Cast

from zoomadmin.audit.chain import (
    INTEGER_FIELDS,
    NULLABLE_FIELDS,
    Canonical,
    canonical_time,
)
from zoomadmin.audit.models import AuditEvent

Format = Literal["csv", "jsonl"]
FORMATS: tuple[Format, ...] = ("csv", "jsonl")
CONTENT_TYPES: dict[Format, str] = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/jsonl; charset=utf-8",
}

# Every hashed column and row_hash (tests/audit/test_export.py checks), in a readable
# order for a person with a spreadsheet; the hash does not depend on the order.
EXPORT_COLUMNS: tuple[str, ...] = (
    "seq",
    "id",
    "created_at",
    "actor_username",
    "actor_id",
    "action",
    "outcome",
    "target_email",
    "target_zoom_id",
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
    "prev_hash",
    "row_hash",
)

# Rows fetched per round trip: large enough to stream fast, small enough to stay flat.
CHUNK_ROWS = 5000
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")
_FORMULA_FIRST = frozenset(_FORMULA_STARTS)
_CREATED_AT = EXPORT_COLUMNS.index("created_at")
_SUBMISSION_ID = EXPORT_COLUMNS.index("submission_id")

Row = tuple[Canonical, ...]


class NotAnExport(ValueError):
    """The file is not an audit export (wrong header, a line that is not a row)."""


def read_snapshot(using: str = "default") -> AbstractContextManager[Any]:
    """A transaction to read a long result in, where that is the right thing.

    PostgreSQL: a transaction lets ``iterator()`` stream from a server-side cursor (outside
    one Django declares it WITH HOLD, which makes the server materialize the whole result
    before the first row) and the cursor reads one consistent snapshot. SQLite: no
    transaction, since ``transaction_mode=IMMEDIATE`` would take the write lock for the
    whole read; WAL mode already gives the reading statement a consistent snapshot.
    """
    if connections[using].vendor == "postgresql":
        return transaction.atomic(using=using)
    return nullcontext()


class _CanonicalTime(Func):
    """``created_at`` spelled as chain.canonical_time spells it, by PostgreSQL itself."""

    output_field = CharField()
    template = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"


def export_rows(events: QuerySet[AuditEvent]) -> Iterator[Row]:
    """``events`` in chain order as tuples of ``EXPORT_COLUMNS``, canonical values.

    Lazy and in constant memory: ``CHUNK_ROWS`` rows per fetch. Run it inside
    ``read_snapshot()``. On PostgreSQL the database spells the timestamp and the UUID as
    text (a third of the export's time otherwise goes into making and formatting a
    million datetime objects); on SQLite Python does.
    """
    columns: list[Any] = list(EXPORT_COLUMNS)
    spelled_by_database = connections[events.db].vendor == "postgresql"
    if spelled_by_database:
        columns[_CREATED_AT] = _CanonicalTime("created_at")
        columns[_SUBMISSION_ID] = Cast("submission_id", CharField())
    rows = events.order_by("seq").values_list(*columns).iterator(chunk_size=CHUNK_ROWS)
    if spelled_by_database:
        yield from rows  # every value already canonical: nothing to do per row
        return
    for values in rows:
        row: list[Any] = list(values)
        row[_CREATED_AT] = canonical_time(values[_CREATED_AT])
        submission = values[_SUBMISSION_ID]
        row[_SUBMISSION_ID] = None if submission is None else str(submission)
        yield tuple(row)


def guard_cell(text: str) -> str:
    """Defuse a CSV cell a spreadsheet would evaluate (see the module docstring)."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def unguard_cell(text: str) -> str:
    return text[1:] if text.startswith("'") else text


def csv_chunks(rows: Iterable[Row], *, rows_per_chunk: int = 500) -> Iterator[str]:
    """The CSV file as a few large strings: a BOM (for spreadsheets), a header, the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(EXPORT_COLUMNS)
    pending = 0
    for row in rows:
        # Only text is guarded: a number or an empty cell is never a formula. Inlined, as
        # this line runs for every cell of a million-row export.
        writer.writerow(
            [
                ("'" + cell if cell and cell[0] in _FORMULA_FIRST else cell)
                if type(cell) is str
                else cell
                for cell in row
            ]
        )
        pending += 1
        if pending >= rows_per_chunk:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()


def jsonl_chunks(rows: Iterable[Row], *, rows_per_chunk: int = 500) -> Iterator[str]:
    """JSON Lines: one object per row, keys ``EXPORT_COLUMNS``, no header line."""
    lines: list[str] = []
    for row in rows:
        lines.append(json.dumps(dict(zip(EXPORT_COLUMNS, row, strict=True)), ensure_ascii=False))
        if len(lines) >= rows_per_chunk:
            yield "\n".join(lines) + "\n"
            lines = []
    if lines:
        yield "\n".join(lines) + "\n"


def chunks(rows: Iterable[Row], fmt: Format) -> Iterator[str]:
    return csv_chunks(rows) if fmt == "csv" else jsonl_chunks(rows)


def format_of(path: Path) -> Format:
    """The format a file name says (``.csv``, ``.jsonl``); NotAnExport otherwise."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix == "ndjson":
        return "jsonl"
    if suffix not in FORMATS:
        raise NotAnExport(f"{path.name}: expected a .csv or .jsonl file")
    return "csv" if suffix == "csv" else "jsonl"


def read_export(path: Path, fmt: Format | None = None) -> Iterator[dict[str, Canonical]]:
    """The rows of an exported file, as column -> canonical value. Streams the file.

    Raises NotAnExport (naming the line) for a file that is not an audit export.
    """
    fmt = fmt or format_of(path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        try:
            if fmt == "csv":
                yield from _read_csv(handle, path.name)
            else:
                yield from _read_jsonl(handle, path.name)
        except UnicodeDecodeError:
            raise NotAnExport(f"{path.name}: not UTF-8 text, so not an audit export") from None


def _read_csv(handle: Iterable[str], name: str) -> Iterator[dict[str, Canonical]]:
    reader = csv.reader(handle)
    header = next(reader, None)
    if header is None or tuple(header) != EXPORT_COLUMNS:
        raise NotAnExport(f"{name}: the first line is not the audit export header")
    for cells in reader:
        if len(cells) != len(EXPORT_COLUMNS):
            raise NotAnExport(
                f"{name} line {reader.line_num}: expected {len(EXPORT_COLUMNS)} cells"
            )
        try:
            yield {
                column: _from_text(column, unguard_cell(cell))
                for column, cell in zip(EXPORT_COLUMNS, cells, strict=True)
            }
        except ValueError as error:
            raise NotAnExport(f"{name} line {reader.line_num}: {error}") from None


def _from_text(column: str, text: str) -> Canonical:
    if text == "" and column in NULLABLE_FIELDS:
        return None
    if column in INTEGER_FIELDS:
        return int(text)
    return text


def _read_jsonl(handle: Iterable[str], name: str) -> Iterator[dict[str, Canonical]]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise NotAnExport(f"{name} line {number}: not JSON ({error.msg})") from None
        if not isinstance(row, dict) or set(row) != set(EXPORT_COLUMNS):
            raise NotAnExport(f"{name} line {number}: not an audit row")
        bad = [k for k, v in row.items() if v is not None and not isinstance(v, str | int)]
        if bad:
            raise NotAnExport(f"{name} line {number}: unexpected value in {bad[0]}")
        yield row
