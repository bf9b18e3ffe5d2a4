"""audit_archive: a range of rows to a file for the database administrator; nothing deleted."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.audit.helpers import audit_verify
from zoomadmin.audit.log import record
from zoomadmin.audit.models import Action, AuditEvent

pytestmark = pytest.mark.django_db


def archive(*args: str) -> str:
    out = io.StringIO()
    call_command("audit_archive", *args, stdout=out)
    return out.getvalue()


def test_an_archive_holds_the_range_and_nothing_is_deleted(tmp_path: Path) -> None:
    rows = [record(Action.SEARCH, actor_username=f"agent{i}") for i in range(10)]
    before = list(AuditEvent.objects.order_by("seq").values_list("id", "row_hash"))
    path = tmp_path / "audit-3-7.jsonl"

    output = archive("--from-seq", "3", "--to-seq", "7", "--output", str(path))

    assert "Wrote 5 audit rows, seq 3..7" in output
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["seq"] for line in lines] == [3, 4, 5, 6, 7]
    assert lines[0]["prev_hash"] == rows[1].row_hash
    after = list(AuditEvent.objects.order_by("seq").values_list("id", "row_hash"))
    assert after[: len(before)] == before, "every row is still there, unchanged"
    recorded = AuditEvent.objects.get(action=Action.EXPORT)
    assert "audit_archive: jsonl, seq 3..7 (5 rows)" in recorded.detail
    assert "sha256" in recorded.detail


@pytest.mark.parametrize("name", ["archive.csv", "archive.jsonl"])
def test_an_archive_verifies_and_a_row_missing_from_it_is_a_gap(tmp_path: Path, name: str) -> None:
    for i in range(6):
        record(Action.SEARCH, actor_username=f"agent{i}", reason=f"=cmd|{i}")
    path = tmp_path / name
    archive("--output", str(path))

    status, output = audit_verify("--file", str(path), "--contiguous")
    assert status == 0, output
    assert "6 rows, seq 1..6" in output

    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    cut = tmp_path / f"cut-{name}"
    cut.write_text("".join(lines[:3] + lines[4:]), encoding="utf-8", newline="")
    status, output = audit_verify("--file", str(cut), "--contiguous")
    assert status == 1
    assert "gap: seq" in output


def test_an_archive_by_date_takes_the_rows_of_those_days(tmp_path: Path) -> None:
    for day in (1, 2, 3, 4):
        AuditEvent(action=Action.SEARCH, created_at=datetime(2026, 11, day, 12, tzinfo=UTC)).save()
    path = tmp_path / "november.jsonl"
    archive("--from-date", "2026-11-02", "--to-date", "2026-11-03", "--output", str(path))
    assert [json.loads(line)["seq"] for line in path.read_text().splitlines()] == [2, 3]


def test_an_archive_never_overwrites_a_file(tmp_path: Path) -> None:
    record(Action.SEARCH)
    path = tmp_path / "kept.jsonl"
    path.write_text("precious\n")
    with pytest.raises(CommandError, match="never overwritten"):
        archive("--output", str(path))
    assert path.read_text() == "precious\n"


def test_a_seq_range_and_a_date_range_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="not both"):
        archive("--from-seq", "1", "--from-date", "2026-01-01", "--output", str(tmp_path / "x"))


def test_an_archive_takes_its_format_from_the_name_whatever_its_case(tmp_path: Path) -> None:
    record(Action.SEARCH)
    path = tmp_path / "ARCHIVE.CSV"
    archive("--output", str(path))

    assert path.read_text(encoding="utf-8").lstrip("\ufeff").startswith("seq,id,")
    assert audit_verify("--file", str(path), "--contiguous")[0] == 0


def test_an_archive_name_that_says_no_format_is_refused(tmp_path: Path) -> None:
    record(Action.SEARCH)
    with pytest.raises(CommandError, match=r"expected a \.csv or \.jsonl file, or give --format"):
        archive("--output", str(tmp_path / "archive.txt"))
    assert not (tmp_path / "archive.txt").exists()
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from-seq", "0"], "--from-seq 0: seq numbers start at 1"),
        (["--from-seq", "3", "--to-seq", "2"], "--to-seq 2 is before --from-seq 3"),
        (["--from-seq", "9"], r"--from-seq 9 is past the end of the log \(seq 4\)"),
        (
            ["--from-date", "2026-11-03", "--to-date", "2026-11-01"],
            "--from-date 2026-11-03 is after --to-date 2026-11-01",
        ),
    ],
)
def test_a_range_that_selects_nothing_says_why(
    tmp_path: Path, args: list[str], message: str
) -> None:
    for _ in range(4):
        record(Action.SEARCH)
    with pytest.raises(CommandError, match=message):
        archive(*args, "--output", str(tmp_path / "x.jsonl"))
    assert not (tmp_path / "x.jsonl").exists()


def test_an_empty_log_has_nothing_to_archive(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="the audit log is empty"):
        archive("--output", str(tmp_path / "x.jsonl"))


def test_a_date_that_is_not_a_date_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="'2026-13-01' is not a date: expected YYYY-MM-DD"):
        archive("--from-date", "2026-13-01", "--output", str(tmp_path / "x.jsonl"))


def test_an_archive_into_a_missing_folder_says_so(tmp_path: Path) -> None:
    record(Action.SEARCH)
    target = tmp_path / "no-such-folder" / "x.jsonl"
    with pytest.raises(CommandError, match=r"cannot create .*x\.jsonl: No such file or directory"):
        archive("--output", str(target))
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()
