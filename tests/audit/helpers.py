"""Test tools for the audit table: lifting its append-only triggers, as an attacker with
the table owner's or a superuser's rights could, and for the test runner's flush."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import TransactionTestCase

TABLE = "audit_auditevent"
_ENABLE = {"A": "ENABLE ALWAYS", "R": "ENABLE REPLICA", "O": "ENABLE", "D": "DISABLE"}


def run_deferred_checks(connection: BaseDatabaseWrapper) -> None:
    """Run the foreign-key checks PostgreSQL deferred to the end of the transaction.

    Inside a test's transaction the rows it inserted still owe those checks, and
    PostgreSQL refuses ALTER TABLE and TRUNCATE of a table with such pending events.
    """
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@contextmanager
def append_only_lifted(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Switch the audit table's triggers off, then back on exactly as they were.

    PostgreSQL: ``ALTER TABLE ... DISABLE TRIGGER`` (what a superuser or the owner can do),
    then each trigger's own enabled state again (``ENABLE ALWAYS``). SQLite has no
    disable: drop the triggers and re-create them from their saved definitions.
    """
    run_deferred_checks(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname, tgenabled FROM pg_trigger "
                "WHERE tgrelid = to_regclass(%s) AND NOT tgisinternal ORDER BY tgname",
                [TABLE],
            )
            triggers = [(str(name), str(state)) for name, state in cursor.fetchall()]
            for name, _ in triggers:
                cursor.execute(f'ALTER TABLE {TABLE} DISABLE TRIGGER "{name}"')
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [TABLE],
            )
            triggers = [(str(name), str(sql)) for name, sql in cursor.fetchall()]
            for name, _ in triggers:
                cursor.execute(f'DROP TRIGGER "{name}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for name, saved in triggers:
                if connection.vendor == "postgresql":
                    cursor.execute(f'ALTER TABLE {TABLE} {_ENABLE[saved]} TRIGGER "{name}"')
                else:
                    cursor.execute(saved)


@contextmanager
def flush_lifts_append_only() -> Iterator[None]:
    """Let the flush that ends each transactional test (and each live-server test) empty
    the audit table, which the triggers otherwise refuse, and only that flush.

    pytest-django ends those tests with Django's ``TransactionTestCase._fixture_teardown``
    (``flush``: TRUNCATE on PostgreSQL, DELETE on SQLite). The triggers are lifted for the
    length of that call and restored after it; a ``flush`` or TRUNCATE run by a test
    itself still meets them.
    """
    original = TransactionTestCase._fixture_teardown

    def _fixture_teardown(self: TransactionTestCase) -> Any:
        with ExitStack() as stack:
            for alias in self._databases_names(include_mirrors=False):  # type: ignore[attr-defined]
                stack.enter_context(append_only_lifted(connections[alias]))
            return original(self)

    TransactionTestCase._fixture_teardown = _fixture_teardown  # type: ignore[method-assign]
    try:
        yield
    finally:
        TransactionTestCase._fixture_teardown = original  # type: ignore[method-assign]


def behind_the_apps_back(sql: str, params: list[object] | None = None) -> None:
    """Change audit rows the way a superuser could: triggers off, ``sql``, triggers on."""
    connection = connections["default"]
    with append_only_lifted(connection), connection.cursor() as cursor:
        cursor.execute(sql, params)


def refused(sql: str, params: list[object] | None = None) -> str:
    """Run ``sql`` expecting the database to refuse it; the refusal's message."""
    with pytest.raises(DatabaseError) as refusal, transaction.atomic(), connection.cursor() as c:
        c.execute(sql, params)
    return str(refusal.value)


def audit_verify(*args: str) -> tuple[int, str]:
    """Run ``manage.py audit_verify`` in-process: (exit status, everything it printed)."""
    out = io.StringIO()
    try:
        call_command("audit_verify", *args, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()
