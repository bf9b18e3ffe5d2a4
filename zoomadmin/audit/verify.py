"""Walk the hash chain (in the database, or in an exported file) and say what is wrong.

Three ways a chain can be broken, reported with the first bad row:

- **changed content**: a row's hash is not the hash of what the row now says (it was
  edited behind the application's back);
- **gap**: sequence numbers are missing (rows were deleted);
- **broken link**: a row's ``prev_hash`` is not the previous row's hash (the previous
  row was rewritten together with its hash, or rows were re-numbered).

Rows removed from the end, or a whole chain recomputed by someone who can write the
table, leave a chain that is valid in itself: only a head kept outside the database
(``Head``, printed by ``audit_verify``) shows that. Everything here streams: memory does
not grow with the log.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from django.db import connections

from zoomadmin.audit.chain import EMPTY_HEAD, GENESIS_HASH, HASHED_FIELDS, Head, row_digest
from zoomadmin.audit.exports import CHUNK_ROWS, Format, NotAnExport, read_export, read_snapshot
from zoomadmin.audit.models import AuditEvent

# Problems kept for the report; a wrecked chain of a million rows should not print them all.
MAX_LISTED = 20
TRIGGERS = ("audit_auditevent_no_update", "audit_auditevent_no_delete")
POSTGRESQL_TRIGGERS = (*TRIGGERS, "audit_auditevent_no_truncate")


@dataclass(frozen=True)
class Problem:
    # "changed content", "gap", "broken link", "order", "head", "database", "protection"
    kind: str
    message: str
    seq: int | None = None
    row_id: int | None = None


@dataclass
class Report:
    rows: int = 0
    first: Head | None = None
    head: Head = EMPTY_HEAD
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    gaps: int = 0  # missing seq numbers between rows (allowed in a filtered export)

    @property
    def intact(self) -> bool:
        return self.problem_count == 0

    def add(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_LISTED:
            self.problems.append(problem)


def _where(seq: object, row_id: object) -> str:
    return f"row seq {seq} (id {row_id})"


def _gap(first: int, last: int, seq: int, row_id: Any) -> Problem:
    """Seq ``first``..``last`` are missing before the row ``seq`` (id ``row_id``)."""
    missing = f"seq {first}" if first == last else f"seq {first}..{last}"
    message = f"gap: {missing} missing before {_where(seq, row_id)}: rows were deleted"
    return Problem("gap", message, seq, row_id)


class ChainWalker:
    """Checks rows fed in ``seq`` order, one at a time; keeps only the previous row.

    ``contiguous``: a missing seq is a gap (the database, an archive); otherwise a jump is
    noted but allowed (a filtered export), and links are checked only between rows whose
    seq follow each other. ``from_genesis``: the first row must be seq 1.
    """

    def __init__(
        self, *, contiguous: bool, from_genesis: bool, expect_head: Head | None = None
    ) -> None:
        self.contiguous = contiguous
        self.from_genesis = from_genesis
        self.expect_head = expect_head
        self.report = Report()
        self._saw_expected = False

    def feed(self, row: Mapping[str, Any]) -> None:
        report = self.report
        seq, row_id = int(row["seq"]), row["id"]
        where = _where(seq, row_id)
        previous = report.head if report.rows else None
        if previous is None:
            if self.from_genesis and seq != 1:
                report.add(_gap(1, seq - 1, seq, row_id))
        elif seq <= previous.seq:
            report.add(
                Problem("order", f"{where} is out of order (after seq {previous.seq})", seq, row_id)
            )
        elif seq > previous.seq + 1:
            report.gaps += seq - previous.seq - 1
            if self.contiguous:
                report.add(_gap(previous.seq + 1, seq - 1, seq, row_id))
        elif row["prev_hash"] != previous.row_hash:
            report.add(
                Problem(
                    "broken link",
                    f"broken link at {where}: it follows hash {row['prev_hash']}, but row seq "
                    f"{previous.seq} has hash {previous.row_hash} (row seq {previous.seq} was "
                    "rewritten with a new hash, or rows were renumbered)",
                    seq,
                    row_id,
                )
            )
        if seq == 1 and row["prev_hash"] != GENESIS_HASH:
            report.add(
                Problem(
                    "broken link",
                    f"broken link at {where}: seq 1 must follow the genesis hash",
                    seq,
                    row_id,
                )
            )
        if row_digest(row) != row["row_hash"]:
            report.add(
                Problem(
                    "changed content",
                    f"changed content at {where}: its hash does not match what it says "
                    "(edited behind the application's back)",
                    seq,
                    row_id,
                )
            )
        expect = self.expect_head
        if expect is not None and seq == expect.seq:
            self._saw_expected = True
            if row["row_hash"] != expect.row_hash:
                report.add(
                    Problem(
                        "head",
                        f"saved head {expect} does not match: {where} has hash "
                        f"{row['row_hash']} (the chain was rewritten up to there)",
                        seq,
                        row_id,
                    )
                )
        report.head = Head(seq, str(row["row_hash"]))
        if report.first is None:
            report.first = report.head
        report.rows += 1

    def finish(self) -> Report:
        expect = self.expect_head
        if expect is not None and expect.seq > 0 and not self._saw_expected:
            if self.report.head.seq < expect.seq:
                message = (
                    f"the log ends at seq {self.report.head.seq} but the saved head is "
                    f"{expect}: rows were removed from the end (or this is another log)"
                )
            else:
                message = f"seq {expect.seq} of the saved head {expect} is not here"
            self.report.add(Problem("head", message, expect.seq))
        return self.report


def database_rows(using: str = "default") -> Iterator[dict[str, Any]]:
    """Every audit row in chain order, ``CHUNK_ROWS`` per fetch. Run inside read_snapshot."""
    rows = AuditEvent._base_manager.using(using).order_by("seq")
    yield from rows.values(*HASHED_FIELDS, "row_hash").iterator(chunk_size=CHUNK_ROWS)


def verify_database(*, expect_head: Head | None = None, using: str = "default") -> Report:
    """Walk the whole chain in the database. Reads every row once: about a second per
    100,000 rows, in constant memory. Also reports missing or disabled triggers."""
    walker = ChainWalker(contiguous=True, from_genesis=True, expect_head=expect_head)
    with read_snapshot(using):
        for row in database_rows(using):
            walker.feed(row)
    report = walker.finish()
    for problem in protection_problems(using):
        report.add(problem)
    return report


def verify_file(
    path: Path,
    *,
    fmt: Format | None = None,
    contiguous: bool = False,
    against_database: bool = True,
    expect_head: Head | None = None,
    using: str = "default",
) -> Report:
    """Check an exported or archived file: each row's hash against its content, the links
    between consecutive rows and, unless ``against_database`` is off, each row's hash
    against the row of the same seq in the database (one query per ``CHUNK_ROWS`` rows).

    A file checked only against itself proves little (anyone can recompute its hashes);
    checked against the database, or ending at a saved head, it proves it is the log.
    Raises ``exports.NotAnExport`` for a file that is not an export.
    """
    walker = ChainWalker(contiguous=contiguous, from_genesis=False, expect_head=expect_head)
    rows = read_export(path, fmt)
    while batch := list(islice(rows, CHUNK_ROWS)):
        for row in batch:
            try:
                walker.feed(row)
            except (TypeError, ValueError) as error:  # a value no audit row can hold
                seq = row.get("seq")
                raise NotAnExport(
                    f"{path.name}: the row with seq {seq!r} is unreadable ({error})"
                ) from None
        if against_database:
            for problem in _compare_with_database(batch, using):
                walker.report.add(problem)
    return walker.finish()


def _compare_with_database(rows: Sequence[Mapping[str, Any]], using: str) -> Iterator[Problem]:
    stored = dict(
        AuditEvent._base_manager.using(using)
        .filter(seq__in=[row["seq"] for row in rows])
        .values_list("seq", "row_hash")
    )
    for row in rows:
        seq, where = row["seq"], _where(row["seq"], row["id"])
        if seq not in stored:
            yield Problem("database", f"{where} of the file is not in the database", seq)
        elif stored[seq] != row["row_hash"]:
            yield Problem(
                "database",
                f"{where} of the file differs from the database: file hash {row['row_hash']}, "
                f"database hash {stored[seq]}",
                seq,
                row["id"],
            )


def protection_problems(using: str = "default") -> list[Problem]:
    """The append-only triggers that are missing, or not firing always (PostgreSQL)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname, tgenabled FROM pg_trigger "
                "WHERE tgrelid = to_regclass('audit_auditevent') AND NOT tgisinternal"
            )
            states = {str(name): str(state) for name, state in cursor.fetchall()}
            expected: tuple[str, ...] = POSTGRESQL_TRIGGERS
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master "
                "WHERE type = 'trigger' AND tbl_name = 'audit_auditevent'"
            )
            states = {str(name): "A" for (name,) in cursor.fetchall()}
            expected = TRIGGERS
    problems = []
    for name in expected:
        if name not in states:
            problems.append(
                Problem("protection", f"trigger {name} is missing: the table is not append-only")
            )
        elif states[name] != "A":
            problems.append(
                Problem(
                    "protection",
                    f"trigger {name} is not ENABLE ALWAYS (state {states[name]!r}): "
                    "rows can be changed",
                )
            )
    return problems
