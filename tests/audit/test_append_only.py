"""The audit table has no update or delete path: not from the application, not in SQL."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, models, transaction
from django.db.models import ProtectedError, QuerySet
from django.test import Client, RequestFactory

from tests.audit.helpers import refused, run_deferred_checks
from zoomadmin.audit.log import record
from zoomadmin.audit.models import Action, AppendOnlyError, AuditEvent, Outcome
from zoomadmin.audit.verify import protection_problems

pytestmark = pytest.mark.django_db


@pytest.fixture
def event() -> AuditEvent:
    return record(Action.SEARCH, actor_username="someone", outcome=Outcome.SUCCESS)


def test_saving_an_existing_row_is_refused(event: AuditEvent) -> None:
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


def test_deleting_a_row_is_refused(event: AuditEvent) -> None:
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_bulk_changes_are_refused(event: AuditEvent) -> None:
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_update([event], ["reason"])
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.update_or_create(pk=event.pk, defaults={"reason": "x"})
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_create([AuditEvent(action=Action.SEARCH)])
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


def test_the_admin_is_read_only(event: AuditEvent, superuser: object) -> None:
    model_admin = site._registry[AuditEvent]
    request = RequestFactory().get("/admin/")
    request.user = superuser  # type: ignore[assignment]
    assert model_admin.has_view_permission(request, event)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)


def test_the_admin_shows_a_row_but_offers_no_save_or_delete(
    event: AuditEvent, superuser: object
) -> None:
    client = Client()
    client.force_login(superuser)  # type: ignore[arg-type]
    page = client.get(f"/admin/audit/auditevent/{event.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "someone" in body
    assert 'name="_save"' not in body
    assert "/delete/" not in body
    post = client.post(f"/admin/audit/auditevent/{event.pk}/change/", {"reason": "x"})
    assert post.status_code == 403
    delete = client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk, reason="").exists()


def test_a_staff_account_with_history_cannot_be_deleted(superuser: object) -> None:
    record(Action.SIGN_IN, actor=superuser, outcome=Outcome.SUCCESS)  # type: ignore[arg-type]
    with pytest.raises(ProtectedError):
        superuser.delete()  # type: ignore[attr-defined]


# --- In the database: the triggers refuse what the ORM guard would have refused -----------


def test_the_append_only_triggers_are_installed_after_all_migrations() -> None:
    assert protection_problems() == []


def test_raw_sql_update_is_refused_by_the_database(event: AuditEvent) -> None:
    message = refused("UPDATE audit_auditevent SET reason = %s WHERE id = %s", ["x", event.pk])
    assert "append-only" in message
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


def test_raw_sql_delete_is_refused_by_the_database(event: AuditEvent) -> None:
    assert "append-only" in refused("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    # Without a WHERE: SQLite's way to empty a table, PostgreSQL's slow TRUNCATE.
    assert "append-only" in refused("DELETE FROM audit_auditevent")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_orm_update_and_delete_past_the_guard_are_refused_by_the_database(
    event: AuditEvent,
) -> None:
    # _base_manager is a plain Manager: no AuditEventQuerySet guard, straight to SQL.
    rows = AuditEvent._base_manager.filter(pk=event.pk)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        rows.update(reason="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        QuerySet(AuditEvent).filter(pk=event.pk).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        models.Model.save(event, force_update=True)  # the model's save() guard bypassed
    assert AuditEvent.objects.filter(pk=event.pk, reason="").exists()


def test_manage_py_flush_cannot_empty_the_audit_table(event: AuditEvent) -> None:
    with pytest.raises(CommandError):
        call_command("flush", interactive=False, verbosity=0)
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.postgres
def test_truncate_is_refused_by_the_database(event: AuditEvent) -> None:
    run_deferred_checks(connection)
    assert "append-only: TRUNCATE refused" in refused("TRUNCATE audit_auditevent")
    assert "append-only" in refused("TRUNCATE audit_auditevent CASCADE")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.postgres
def test_the_triggers_fire_even_under_replica_replication_role(event: AuditEvent) -> None:
    # session_replication_role = replica silences ordinary triggers (and FK checks), a
    # known way around them; ENABLE ALWAYS triggers still fire.
    run_deferred_checks(connection)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        for sql in (
            "UPDATE audit_auditevent SET reason = 'x'",
            "DELETE FROM audit_auditevent",
            "TRUNCATE audit_auditevent",
        ):
            assert "append-only" in refused(sql)
    assert AuditEvent.objects.filter(pk=event.pk, reason="").exists()


@pytest.mark.postgres
def test_the_postgresql_triggers_are_enabled_always() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname, tgenabled FROM pg_trigger "
            "WHERE tgrelid = 'audit_auditevent'::regclass AND NOT tgisinternal ORDER BY tgname"
        )
        assert cursor.fetchall() == [
            ("audit_auditevent_no_delete", "A"),
            ("audit_auditevent_no_truncate", "A"),
            ("audit_auditevent_no_update", "A"),
        ]


def test_inserting_still_works_and_rows_can_be_read(event: AuditEvent) -> None:
    second = record(Action.SEARCH, actor_username="someone else")
    assert list(AuditEvent.objects.order_by("id").values_list("id", flat=True)) == [
        event.pk,
        second.pk,
    ]
