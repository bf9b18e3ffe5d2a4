"""The hash chain: every row linked to the one before, and audit_verify finding any change."""

from __future__ import annotations

import itertools
import re
import threading
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.test import RequestFactory

from tests.audit.helpers import audit_verify, behind_the_apps_back, run_deferred_checks
from zoomadmin.audit import chain
from zoomadmin.audit.exports import EXPORT_COLUMNS
from zoomadmin.audit.log import record
from zoomadmin.audit.models import Action, AppendOnlyError, AuditEvent, Outcome
from zoomadmin.audit.verify import verify_database

pytestmark = pytest.mark.django_db


def add(count: int, **fields: object) -> list[AuditEvent]:
    return [
        record(Action.SEARCH, actor_username=f"agent{i}", outcome=Outcome.SUCCESS, **fields)  # type: ignore[arg-type]
        for i in range(count)
    ]


def head_of(output: str) -> str:
    match = re.search(r"^Head: (\d+:[0-9a-f]{64})$", output, re.MULTILINE)
    assert match, output
    return match.group(1)


# --- What a row carries ---------------------------------------------------------------------


def test_every_column_is_hashed_and_exported() -> None:
    columns = {field.attname for field in AuditEvent._meta.concrete_fields}
    assert set(chain.HASHED_FIELDS) == columns - {"row_hash"}
    assert set(EXPORT_COLUMNS) == columns


def test_rows_are_numbered_without_gaps_and_each_links_to_the_one_before() -> None:
    rows = add(5)
    assert [row.seq for row in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == chain.GENESIS_HASH
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.row_hash
    stored = AuditEvent.objects.get(pk=rows[2].pk)
    assert stored.row_hash == rows[2].row_hash == chain.row_digest(stored.__dict__)
    assert re.fullmatch(r"[0-9a-f]{64}", stored.row_hash)


def test_a_rolled_back_append_leaves_no_gap() -> None:
    first = add(1)[0]

    def append_then_fail() -> None:
        with transaction.atomic():
            add(2)
            raise RuntimeError("the caller's transaction fails")

    with pytest.raises(RuntimeError):
        append_then_fail()
    after = add(1)[0]
    assert after.seq == first.seq + 1
    assert after.prev_hash == first.row_hash
    assert verify_database().intact


def test_what_is_stored_hashes_the_same_when_read_back() -> None:
    """Awkward values survive the database round trip unchanged, as the hash saw them."""
    request = RequestFactory().get(
        "/", REMOTE_ADDR="2001:0db8:0000:0000:0000:0000:0000:0001", HTTP_USER_AGENT="Zoë/1.0 ☎"
    )
    request.user = AnonymousUser()
    intent = record(
        Action.FORCE_LOGOUT_REQUESTED,
        request=request,
        actor_username="zoë.o'brien",
        target_email="ÆØÅ@例え.example",
        reason='Line one\nline two\r\n\ttabbed "quoted" 🚨 =1+1',
        submission_id=uuid.uuid4(),
    )
    record(
        Action.FORCE_LOGOUT_RESULT,
        outcome=Outcome.FAILED,
        zoom_status=429,
        zoom_error_code=-1,
        zoom_message="x" * 5000,
        intent=intent,
    )
    event = AuditEvent(
        action=Action.SEARCH,
        created_at=datetime(2026, 3, 29, 2, 30, 0, 123456, tzinfo=timezone(timedelta(hours=2))),
        zoom_status="204",  # type: ignore[misc]  # normalized to 204 before it is hashed
    )
    event.save()
    assert AuditEvent.objects.get(pk=intent.pk).client_ip == "2001:db8::1"
    report = verify_database()
    assert report.intact, report.problems
    assert report.rows == 3


def test_the_timestamp_is_hashed_in_one_canonical_utc_form() -> None:
    local = datetime(2026, 3, 29, 4, 30, 0, 5, tzinfo=timezone(timedelta(hours=2)))
    assert chain.canonical_time(local) == "2026-03-29T02:30:00.000005Z"
    assert chain.canonical_time(local.astimezone(UTC)) == "2026-03-29T02:30:00.000005Z"
    row = AuditEvent(action=Action.SEARCH, created_at=local)
    row.save()
    values = dict(row.__dict__)
    values["created_at"] = local + timedelta(microseconds=1)
    assert chain.row_digest(values) != row.row_hash


def test_bulk_create_cannot_skip_the_chain() -> None:
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_create([AuditEvent(action=Action.SEARCH)])


# --- audit_verify -------------------------------------------------------------------------------


def test_an_intact_chain_exits_0_and_prints_its_head() -> None:
    rows = add(4)
    status, output = audit_verify()
    assert status == 0, output
    assert "Audit chain intact: 4 rows, seq 1..4." in output
    assert head_of(output) == f"4:{rows[-1].row_hash}"


def test_an_empty_log_is_intact_with_the_genesis_head() -> None:
    status, output = audit_verify()
    assert status == 0
    assert head_of(output) == f"0:{chain.GENESIS_HASH}"


def test_a_row_edited_behind_the_apps_back_is_found_and_named() -> None:
    rows = add(6)
    victim = rows[3]
    behind_the_apps_back(
        "UPDATE audit_auditevent SET reason = %s WHERE id = %s", ["nothing to see", victim.pk]
    )

    status, output = audit_verify()

    assert status == 1
    assert f"changed content at row seq {victim.seq} (id {victim.pk})" in output
    assert "NOT intact (1 problem)" in output
    assert AuditEvent.objects.get(pk=victim.pk).reason == "nothing to see"


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link() -> None:
    rows = add(5)
    victim = rows[1]
    values = dict(AuditEvent.objects.filter(pk=victim.pk).values(*chain.HASHED_FIELDS).get())
    values["actor_username"] = "someone else"
    forged = chain.row_digest(values)
    behind_the_apps_back(
        "UPDATE audit_auditevent SET actor_username = %s, row_hash = %s WHERE id = %s",
        ["someone else", forged, victim.pk],
    )

    status, output = audit_verify()

    assert status == 1
    following = rows[2]
    assert f"broken link at row seq {following.seq} (id {following.pk})" in output
    assert f"row seq {victim.seq} has hash {forged}" in output
    assert "changed content" not in output, "the forged row is consistent in itself"


def test_a_row_deleted_behind_the_apps_back_leaves_a_gap_that_is_named() -> None:
    rows = add(6)
    behind_the_apps_back("DELETE FROM audit_auditevent WHERE id = %s", [rows[2].pk])

    status, output = audit_verify()

    assert status == 1
    assert f"gap: seq 3 missing before row seq 4 (id {rows[3].pk})" in output
    assert "broken link" not in output, "the gap explains the next row's link"


def test_several_deleted_rows_are_one_gap_and_the_first_row_counts_too() -> None:
    rows = add(7)
    behind_the_apps_back(
        "DELETE FROM audit_auditevent WHERE id IN (%s, %s, %s)",
        [rows[0].pk, rows[3].pk, rows[4].pk],
    )
    status, output = audit_verify()
    assert status == 1
    assert f"gap: seq 1 missing before row seq 2 (id {rows[1].pk})" in output
    assert f"gap: seq 4..5 missing before row seq 6 (id {rows[5].pk})" in output
    assert "NOT intact (2 problems)" in output


def test_a_broken_link_is_found() -> None:
    rows = add(4)
    behind_the_apps_back(
        "UPDATE audit_auditevent SET prev_hash = %s WHERE id = %s", ["f" * 64, rows[2].pk]
    )
    status, output = audit_verify()
    assert status == 1
    assert f"broken link at row seq 3 (id {rows[2].pk})" in output


def test_rows_removed_from_the_end_are_found_only_with_the_saved_head() -> None:
    rows = add(5)
    status, output = audit_verify()
    saved = head_of(output)
    behind_the_apps_back("DELETE FROM audit_auditevent WHERE seq >= 4")

    assert audit_verify()[0] == 0, "the rest of the chain is valid in itself"
    status, output = audit_verify("--expect-head", saved)
    assert status == 1
    assert f"the log ends at seq 3 but the saved head is {saved}" in output
    assert len(rows) == 5


def test_a_rewritten_chain_is_found_with_the_saved_head() -> None:
    add(3)
    saved = head_of(audit_verify()[1])
    # Someone with write access recomputes every hash after editing row 2.
    behind_the_apps_back("UPDATE audit_auditevent SET reason = 'rewritten' WHERE seq = 2")
    prev = chain.GENESIS_HASH
    for values in AuditEvent.objects.order_by("seq").values(*chain.HASHED_FIELDS):
        values["prev_hash"] = prev
        prev = chain.row_digest(values)
        behind_the_apps_back(
            "UPDATE audit_auditevent SET prev_hash = %s, row_hash = %s WHERE id = %s",
            [values["prev_hash"], prev, values["id"]],
        )
    assert audit_verify()[0] == 0
    status, output = audit_verify("--expect-head", saved)
    assert status == 1
    assert f"saved head {saved} does not match: row seq 3" in output


def test_a_later_head_still_matches_the_saved_one() -> None:
    add(3)
    saved = head_of(audit_verify()[1])
    add(2)
    status, output = audit_verify("--expect-head", saved)
    assert status == 0, output


def test_a_malformed_saved_head_is_refused() -> None:
    with pytest.raises(CommandError, match="SEQ:HASH"):
        call_command("audit_verify", "--expect-head", "12:nothex")


def test_triggers_left_switched_off_make_verify_fail() -> None:
    add(2)
    run_deferred_checks(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_no_update"
            )
        else:
            cursor.execute("DROP TRIGGER audit_auditevent_no_update")
    status, output = audit_verify()
    assert status == 1
    assert "trigger audit_auditevent_no_update is" in output


# --- Concurrent writers -----------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_writers_leave_one_valid_chain() -> None:
    writers, each = 8, 40
    start = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(number: int) -> None:
        try:
            start.wait()
            for i in range(each):
                record(Action.SEARCH, actor_username=f"writer{number}", detail=f"row {i}")
        except BaseException as error:  # reported below
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not failures, failures
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, writers * each + 1))
    report = verify_database()
    assert report.intact, report.problems
    # The writers really interleaved: the chain is not eight runs one after the other.
    actors = list(AuditEvent.objects.order_by("seq").values_list("actor_username", flat=True))
    assert sum(a != b for a, b in itertools.pairwise(actors)) > writers


# --- Old databases ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_links_rows_written_before_the_chain_existed() -> None:
    call_command("migrate", "audit", "0001", verbosity=0)
    try:
        # Ids with gaps (rolled-back inserts) and clocks out of order, as on a real database.
        with connection.cursor() as cursor:
            for row_id, day in ((3, 5), (7, 2), (8, 9), (20, 1)):
                cursor.execute(
                    "INSERT INTO audit_auditevent (id, created_at, actor_username, action, "
                    "outcome, target_zoom_id, target_email, reason, detail, zoom_message, "
                    "zoom_tracking_id, user_agent, request_id) "
                    "VALUES (%s, %s, %s, 'search', 'success', '', '', '', '', '', '', '', '')",
                    [row_id, datetime(2026, 1, day, tzinfo=UTC), f"old{row_id}"],
                )
            if connection.vendor == "postgresql":  # where the id sequence would stand
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence('audit_auditevent', 'id'), 20)"
                )
    finally:
        call_command("migrate", verbosity=0)

    rows = list(AuditEvent.objects.order_by("seq").values_list("seq", "id", "actor_username"))
    assert rows == [(1, 3, "old3"), (2, 7, "old7"), (3, 8, "old8"), (4, 20, "old20")]
    report = verify_database()
    assert report.intact, report.problems
    new = record(Action.SEARCH, actor_username="after the upgrade")
    assert (new.seq, new.id) == (5, 21)
    assert verify_database().intact
