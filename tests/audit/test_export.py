"""Exports: the current filter as CSV or JSON Lines, streamed, audited, and checkable."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.http import StreamingHttpResponse
from django.test import Client

from tests.audit.helpers import audit_verify
from zoomadmin.audit import chain, exports
from zoomadmin.audit.exports import EXPORT_COLUMNS, guard_cell, unguard_cell
from zoomadmin.audit.log import record
from zoomadmin.audit.models import Action, AuditEvent, Outcome

pytestmark = pytest.mark.django_db


def seed() -> list[AuditEvent]:
    rows = []
    for i in range(9):
        rows.append(
            record(
                Action.SEARCH if i % 3 else Action.FORCE_LOGOUT_REQUESTED,
                actor_username=f"agent{i % 3}",
                outcome=Outcome.SUCCESS if i % 3 else Outcome.NONE,
                target_email=f"user{i}@globex.example",
                reason=f"INC-{i}",
            )
        )
    return rows


def download(client: Client, fmt: str, **query: str) -> tuple[StreamingHttpResponse, str]:
    response = client.get(f"/audit/export.{fmt}", query)
    assert response.status_code == 200, response
    assert isinstance(response, StreamingHttpResponse)
    return response, b"".join(response.streaming_content).decode("utf-8")  # type: ignore[arg-type]


def csv_rows(body: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff"))))


def save(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8", newline="")
    return path


def test_the_csv_export_streams_the_filtered_rows_oldest_first(manager_client: Client) -> None:
    seed()
    response, body = download(manager_client, "csv", actor="agent1")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    assert response["Content-Disposition"].endswith('.csv"')
    assert "no-store" in response["Cache-Control"]
    rows = csv_rows(body)
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    assert {r["actor_username"] for r in rows} == {"agent1"}
    expected = AuditEvent.objects.filter(actor_username="agent1").order_by("seq")
    assert [int(r["seq"]) for r in rows] == [e.seq for e in expected]
    assert [r["row_hash"] for r in rows] == [e.row_hash for e in expected]


def test_the_jsonl_export_has_one_object_per_row_with_the_chain_columns(
    manager_client: Client,
) -> None:
    events = seed()
    response, body = download(manager_client, "jsonl", target="user4@globex.example")

    assert response["Content-Type"] == "application/jsonl; charset=utf-8"
    lines = [json.loads(line) for line in body.splitlines()]
    assert len(lines) == 1
    row = lines[0]
    assert set(row) == set(EXPORT_COLUMNS)
    assert (row["seq"], row["id"], row["row_hash"]) == (
        events[4].seq,
        events[4].pk,
        events[4].row_hash,
    )
    assert row["created_at"] == chain.canonical_time(events[4].created_at)
    assert row["prev_hash"] == events[3].row_hash


def test_exporting_is_itself_audited_with_the_filter(manager_client: Client) -> None:
    events = seed()
    _, body = download(manager_client, "csv", actor="agent2", reason="INC")

    export = AuditEvent.objects.get(action=Action.EXPORT)
    assert export.actor_username == "mo.manager"
    assert export.request_id and export.client_ip == "127.0.0.1"
    assert "csv export; filter: actor=agent2&reason=INC" in export.detail
    # The file holds the rows up to the export row's predecessor, not the export row.
    sign_in = AuditEvent.objects.filter(action=Action.SIGN_IN).count()
    assert f"rows up to seq {len(events) + sign_in}" in export.detail
    assert str(export.seq) not in [r["seq"] for r in csv_rows(body)]


def test_a_bad_filter_exports_nothing_and_records_nothing(manager_client: Client) -> None:
    response = manager_client.get("/audit/export.csv", {"date_from": "yesterday"})
    assert response.status_code == 400
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


def test_the_export_streams_across_many_fetches(
    manager_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports, "CHUNK_ROWS", 2)  # many round trips for a few rows
    seed()
    _, body = download(manager_client, "jsonl")
    seqs = [json.loads(line)["seq"] for line in body.splitlines()]
    assert seqs == sorted(seqs) and len(seqs) == AuditEvent.objects.count() - 1


@pytest.mark.parametrize(
    "value", ['=HYPERLINK("http://evil.example")', "+1", "-2+3", "@SUM(A1)", "\tx", "'quoted"]
)
def test_csv_cells_that_look_like_formulas_are_defused_and_verification_still_holds(
    manager_client: Client, tmp_path: Path, value: str
) -> None:
    record(Action.FORCE_LOGOUT_REQUESTED, actor_username="agent", reason=value, detail=value)
    _, body = download(manager_client, "csv")

    reasons = [r["reason"] for r in csv_rows(body) if r["action"] == "force_logout_requested"]
    assert reasons == ["'" + value]
    status, output = audit_verify("--file", str(save(tmp_path, "audit.csv", body)))
    assert status == 0, output


def test_the_formula_guard_round_trips_exactly() -> None:
    for value in ["", "plain", "=1", "''", "'=1", "-", "a=b", "@"]:
        assert unguard_cell(guard_cell(value)) == value
    assert guard_cell("plain") == "plain"


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_verify_file_accepts_a_genuine_export(
    manager_client: Client, tmp_path: Path, fmt: str
) -> None:
    seed()
    _, whole = download(manager_client, fmt)
    _, filtered = download(manager_client, fmt, actor="agent0")

    status, output = audit_verify(
        "--file", str(save(tmp_path, f"whole.{fmt}", whole)), "--contiguous"
    )
    assert status == 0, output
    assert "intact" in output
    status, output = audit_verify("--file", str(save(tmp_path, f"some.{fmt}", filtered)))
    assert status == 0, output
    assert "seq numbers not in the file" in output, "a filtered export has gaps, by design"
    status, output = audit_verify("--file", str(tmp_path / f"some.{fmt}"), "--contiguous")
    assert status == 1 and "gap" in output


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_verify_file_rejects_an_edited_export(
    manager_client: Client, tmp_path: Path, fmt: str
) -> None:
    events = seed()
    _, body = download(manager_client, fmt)
    edited = save(tmp_path, f"edited.{fmt}", body.replace("INC-4", "INC-5", 1))

    status, output = audit_verify("--file", str(edited), "--offline")

    assert status == 1
    assert f"changed content at row seq {events[4].seq} (id {events[4].pk})" in output


def test_verify_file_rejects_a_forged_export_that_is_consistent_in_itself(
    manager_client: Client, tmp_path: Path
) -> None:
    events = seed()
    _, body = download(manager_client, "jsonl")
    rows = [json.loads(line) for line in body.splitlines()]
    # Rewrite a reason and recompute every hash from there on: the file checks out alone...
    rows[4]["reason"] = "nothing happened"
    prev = rows[3]["row_hash"]
    for row in rows[4:]:
        row["prev_hash"] = prev
        row["row_hash"] = prev = chain.row_digest(row)
    forged = save(tmp_path, "forged.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    assert audit_verify("--file", str(forged), "--offline")[0] == 0

    # ...but not against the chain in the database.
    status, output = audit_verify("--file", str(forged))
    assert status == 1
    assert (
        f"row seq {events[4].seq} (id {events[4].pk}) of the file differs from the database"
        in output
    )


def test_verify_file_refuses_a_file_that_is_not_an_export(tmp_path: Path) -> None:
    path = save(tmp_path, "notes.csv", "name,value\nx,1\n")
    status, output = audit_verify("--file", str(path))
    assert status == 1
    assert "not the audit export header" in output


def test_verify_file_says_a_file_that_is_not_utf8_is_not_an_export(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"reason": "caf\xe9"}\n'.encode("latin-1"))

    status, output = audit_verify("--file", str(path))

    assert status == 1
    assert "latin1.jsonl: not UTF-8 text, so not an audit export" in output


@pytest.mark.parametrize(("column", "value"), [("seq", "third"), ("submission_id", "not-a-uuid")])
def test_verify_file_names_a_row_holding_a_value_no_audit_row_can_hold(
    manager_client: Client, tmp_path: Path, column: str, value: str
) -> None:
    seed()
    _, body = download(manager_client, "jsonl")
    rows = [json.loads(line) for line in body.splitlines()]
    rows[2][column] = value
    path = save(tmp_path, "odd.jsonl", "".join(json.dumps(r) + "\n" for r in rows))

    status, output = audit_verify("--file", str(path), "--offline")

    assert status == 1
    assert "odd.jsonl: the row with seq" in output
    assert "is unreadable" in output


@pytest.mark.parametrize("option", ["--contiguous", "--offline"])
def test_file_options_without_a_file_are_refused(option: str) -> None:
    status, output = audit_verify(option)
    assert status == 1
    assert f"{option} go with --file" in output
