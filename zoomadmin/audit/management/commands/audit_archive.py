"""Write a range of audit rows to a file for the database administrator. Never deletes."""

from __future__ import annotations

import hashlib
from argparse import ArgumentParser, ArgumentTypeError
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max, Min

from zoomadmin.audit.chain import read_head
from zoomadmin.audit.exports import (
    FORMATS,
    Format,
    NotAnExport,
    Row,
    chunks,
    export_rows,
    format_of,
    read_snapshot,
)
from zoomadmin.audit.filters import created_on_days
from zoomadmin.audit.log import command_runner, record
from zoomadmin.audit.models import Action, AuditEvent, Outcome


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ArgumentTypeError(f"{text!r} is not a date: expected YYYY-MM-DD") from None


class Command(BaseCommand):
    help = (
        "Write audit rows seq FROM..TO (or the rows of a date range) to a new file, in the "
        "export format, for long-term keeping. Never deletes or changes a row: the "
        "application never removes audit rows. Check the file with "
        "`audit_verify --file FILE --contiguous`."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--output", type=Path, required=True, help="the file to create")
        parser.add_argument("--format", choices=FORMATS, help="default: from the file name")
        parser.add_argument("--from-seq", type=int, help="first seq to write (default 1)")
        parser.add_argument("--to-seq", type=int, help="last seq to write (default: the head)")
        parser.add_argument("--from-date", type=_day, metavar="YYYY-MM-DD")
        parser.add_argument("--to-date", type=_day, metavar="YYYY-MM-DD", help="inclusive")

    def handle(self, *args: Any, **options: Any) -> None:
        output: Path = options["output"]
        first, last = self._range(options)
        fmt = options["format"] or self._format_of(output)
        try:
            handle = output.open("x", encoding="utf-8", newline="")
        except FileExistsError:
            raise CommandError(f"{output} exists: an archive is never overwritten") from None
        except OSError as error:  # no such folder, no permission, a full disk
            raise CommandError(f"cannot create {output}: {error.strerror}") from None
        digest = hashlib.sha256()
        counted = _Counting(export_rows(AuditEvent.objects.filter(seq__gte=first, seq__lte=last)))
        try:
            with handle, read_snapshot():
                for chunk in chunks(counted, fmt):
                    handle.write(chunk)
                    digest.update(chunk.encode("utf-8"))
        except BaseException:
            output.unlink()  # half an archive must not pass for a whole one
            raise
        rows = counted.rows
        if rows == 0:
            self.stdout.write(f"No audit rows in seq {first}..{last}; wrote an empty {output}.")
        record(
            Action.EXPORT,
            outcome=Outcome.SUCCESS,
            detail=(
                f"audit_archive: {fmt}, seq {first}..{last} ({rows} rows) to {output.name}, "
                f"sha256 {digest.hexdigest()}; run by {command_runner()}"
            ),
        )
        self.stdout.write(f"Wrote {rows} audit rows, seq {first}..{last}, to {output}.")
        self.stdout.write(f"File sha256: {digest.hexdigest()}")
        self.stdout.write(f"Check it with: manage.py audit_verify --file {output} --contiguous")

    @staticmethod
    def _format_of(output: Path) -> Format:
        """The format the name says, as ``audit_verify --file`` will read it."""
        try:
            return format_of(output)
        except NotAnExport as error:
            raise CommandError(f"{error}, or give --format") from None

    def _range(self, options: dict[str, Any]) -> tuple[int, int]:
        """The seq range to write. Dates pick the rows' seq span, which is contiguous; seq
        follows time, so at most a few rows written in the same instant fall either way."""
        by_seq = options["from_seq"] is not None or options["to_seq"] is not None
        by_date = options["from_date"] is not None or options["to_date"] is not None
        if by_seq and by_date:
            raise CommandError("give a seq range or a date range, not both")
        if by_date:
            first_day, last_day = options["from_date"], options["to_date"]
            if first_day and last_day and first_day > last_day:
                raise CommandError(f"--from-date {first_day} is after --to-date {last_day}")
            events = created_on_days(AuditEvent.objects.all(), first_day, last_day)
            span = events.aggregate(first=Min("seq"), last=Max("seq"))
            if span["first"] is None:
                raise CommandError("no audit rows in that date range")
            return int(span["first"]), int(span["last"])
        first = options["from_seq"] if options["from_seq"] is not None else 1
        if first < 1:
            raise CommandError(f"--from-seq {first}: seq numbers start at 1")
        if options["to_seq"] is not None:
            last = options["to_seq"]
            if last < first:
                raise CommandError(f"--to-seq {last} is before --from-seq {first}")
            return first, last
        head = read_head(AuditEvent).seq
        if head == 0:
            raise CommandError("the audit log is empty: there is nothing to archive")
        if first > head:
            raise CommandError(f"--from-seq {first} is past the end of the log (seq {head})")
        return first, head


class _Counting:
    """Pass rows through, counting them."""

    def __init__(self, rows: Iterator[Row]) -> None:
        self._rows = rows
        self.rows = 0

    def __iter__(self) -> Iterator[Row]:
        for row in self._rows:
            self.rows += 1
            yield row
