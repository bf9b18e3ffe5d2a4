"""The production setup: the application's PostgreSQL role may only read and append."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests.audit.helpers import refused, run_deferred_checks
from zoomadmin.audit.log import record
from zoomadmin.audit.models import Action, AuditEvent
from zoomadmin.audit.privileges import SQL_FILE, check_current_role, render
from zoomadmin.audit.verify import verify_database

APP_ROLE = "zoomadmin_test_app"


def statements(sql: str) -> list[str]:
    """The SQL file's statements, without comments and its own BEGIN/COMMIT."""
    code = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    found = [part.strip() for part in code.split(";") if part.strip()]
    return [s for s in found if s.upper() not in ("BEGIN", "COMMIT")]


def test_the_sql_grants_only_select_and_insert_on_the_audit_table() -> None:
    sql = render(app_role="zoomadmin_app", owner_role="zoomadmin_owner")
    assert ':"' not in sql, "every psql variable is filled in"
    audit_grants = re.findall(r"GRANT (.+?) ON TABLE \"public\"\.audit_auditevent TO", sql)
    assert audit_grants == ["SELECT, INSERT"]
    assert 'REVOKE ALL ON TABLE "public".audit_auditevent FROM "zoomadmin_app"' in sql
    assert "TRUNCATE" not in " ".join(s for s in statements(sql) if s.startswith("GRANT"))


def test_the_sql_file_runs_in_psql_as_it_is() -> None:
    text = SQL_FILE.read_text()
    assert set(re.findall(r':"([a-z_]+)"', text)) == {"app_role", "owner_role", "schema"}


@pytest.mark.parametrize("name", ['app"; DROP TABLE x; --', "", "1abc", "a b"])
def test_role_names_that_are_not_plain_identifiers_are_refused(name: str) -> None:
    with pytest.raises(CommandError, match="not a plain PostgreSQL identifier"):
        call_command("audit_privileges", "--app-role", name, stdout=io.StringIO())


def test_the_command_prints_the_sql() -> None:
    out = io.StringIO()
    call_command("audit_privileges", "--app-role", "web", "--owner-role", "dba", stdout=out)
    assert 'GRANT SELECT, INSERT ON TABLE "public".audit_auditevent TO "web";' in out.getvalue()
    assert 'ALTER DEFAULT PRIVILEGES FOR ROLE "dba"' in out.getvalue()


@pytest.mark.postgres
@pytest.mark.django_db
def test_as_the_app_role_rows_can_be_appended_and_read_but_never_changed() -> None:
    existing = record(Action.SEARCH, actor_username="before")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]
        cursor.execute(f"CREATE ROLE {APP_ROLE} NOLOGIN")  # rolled back with the test
        for statement in statements(render(app_role=APP_ROLE, owner_role=owner)):
            cursor.execute(statement)
        run_deferred_checks(connection)
        cursor.execute(f"SET ROLE {APP_ROLE}")
    try:
        appended = record(Action.SEARCH, actor_username="as the app")
        assert appended.seq == existing.seq + 1
        assert AuditEvent.objects.count() == 2
        for sql in (
            "UPDATE audit_auditevent SET reason = 'x'",
            "DELETE FROM audit_auditevent",
            "TRUNCATE audit_auditevent",
        ):
            assert "permission denied for table audit_auditevent" in refused(sql)
        assert "must be owner" in refused(
            "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_no_update"
        )
        assert "permission denied for sequence" in refused(
            "SELECT setval(pg_get_serial_sequence('audit_auditevent', 'id'), 1)"
        )
        check = check_current_role()
        assert check.privileges == {
            "SELECT": True,
            "INSERT": True,
            "UPDATE": False,
            "DELETE": False,
            "TRUNCATE": False,
            "TRIGGER": False,
        }
        assert not check.can_alter_rows
        out = io.StringIO()
        call_command("audit_privileges", "--check", stdout=out)
        assert "It can only read and append audit rows." in out.getvalue()
        assert verify_database().intact
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_check_fails_for_a_role_that_could_change_rows() -> None:
    # The test suite connects as a superuser, exactly what the app must not do.
    with pytest.raises(CommandError, match="could change or remove audit rows") as failure:
        call_command("audit_privileges", "--check", stdout=io.StringIO())
    assert failure.value.returncode == 1


@pytest.mark.django_db
def test_the_check_explains_sqlite_has_no_roles() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with pytest.raises(CommandError, match="SQLite has no roles"):
        call_command("audit_privileges", "--check")
