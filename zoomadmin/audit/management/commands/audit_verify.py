"""Check the audit log's hash chain (INTERFACE.md): exit status 0 only when it is intact."""

from __future__ import annotations

from argparse import ArgumentParser, ArgumentTypeError
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from zoomadmin.audit.chain import Head
from zoomadmin.audit.exports import FORMATS, NotAnExport
from zoomadmin.audit.verify import Report, verify_database, verify_file


def _head(text: str) -> Head:
    try:
        return Head.parse(text)
    except ValueError as error:
        raise ArgumentTypeError(str(error)) from None


class Command(BaseCommand):
    help = (
        "Walk the audit log's hash chain and exit 0 only if it is intact; otherwise name "
        "the first bad row and what is wrong (changed content, a gap, a broken link). "
        "Prints the head (SEQ:HASH): keep it outside the database and pass it back with "
        "--expect-head. With --file, check an exported or archived file instead."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--expect-head",
            type=_head,
            metavar="SEQ:HASH",
            help="a head saved earlier: the chain must still contain it, unchanged",
        )
        parser.add_argument(
            "--file", type=Path, help="check this export (.csv or .jsonl) instead of the table"
        )
        parser.add_argument(
            "--format", choices=FORMATS, help="the file's format (default: from its name)"
        )
        parser.add_argument(
            "--contiguous",
            action="store_true",
            help="with --file: missing seq numbers are errors (an archive, an unfiltered export)",
        )
        parser.add_argument(
            "--offline",
            action="store_true",
            help="with --file: do not compare with the database (checks the file alone)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        expect: Head | None = options["expect_head"]
        path: Path | None = options["file"]
        file_only = [f"--{name}" for name in ("format", "contiguous", "offline") if options[name]]
        if path is None and file_only:
            raise CommandError(f"{' and '.join(file_only)} go with --file")
        if path is None:
            report = verify_database(expect_head=expect)
            subject = "Audit chain"
        else:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            try:
                report = verify_file(
                    path,
                    fmt=options["format"],
                    contiguous=options["contiguous"],
                    against_database=not options["offline"],
                    expect_head=expect,
                )
            except NotAnExport as error:
                raise CommandError(str(error)) from None
            subject = f"Audit file {path.name}"
        self._print(subject, report, checked_file=path is not None)
        if not report.intact:
            first = report.problems[0]
            raise CommandError(
                f"{subject} is NOT intact ({report.problem_count} problem"
                f"{'s' if report.problem_count != 1 else ''}); first: {first.message}",
                returncode=1,
            )

    def _print(self, subject: str, report: Report, *, checked_file: bool) -> None:
        span = f"seq {report.first.seq}..{report.head.seq}" if report.first else "an empty log"
        gaps = (
            f", {report.gaps} seq numbers not in the file" if checked_file and report.gaps else ""
        )
        if report.intact:
            self.stdout.write(f"{subject} intact: {report.rows} rows, {span}{gaps}.")
        else:
            self.stdout.write(f"{subject} NOT intact: {report.rows} rows read, {span}{gaps}.")
            for problem in report.problems:
                self.stdout.write(f"  {problem.kind}: {problem.message}")
            if report.problem_count > len(report.problems):
                self.stdout.write(f"  ... and {report.problem_count - len(report.problems)} more")
        self.stdout.write(f"Head: {report.head}")
