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
