"""Print the PostgreSQL privilege setup for the app's role, or check the current role."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from zoomadmin.audit.privileges import check_current_role, render


class Command(BaseCommand):
    help = (
        "Print the SQL that leaves the application's PostgreSQL role only SELECT and INSERT "
        "on the audit table (zoomadmin/audit/sql/app_role_privileges.sql), to run as a "
        "superuser or the owner. With --check: report what the role this process connects "
        "as may do, and exit 1 if it could change or remove audit rows."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--app-role", default="zoomadmin_app")
        parser.add_argument("--owner-role", default="zoomadmin_owner")
        parser.add_argument("--schema", default="public")
        parser.add_argument("--check", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["check"]:
            try:
                sql = render(
                    app_role=options["app_role"],
                    owner_role=options["owner_role"],
                    schema=options["schema"],
                )
            except ValueError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(sql, ending="")
            return
        if connection.vendor != "postgresql":
            raise CommandError("SQLite has no roles: only the triggers protect the audit table")
        result = check_current_role()
        granted = ", ".join(name for name, held in result.privileges.items() if held) or "none"
        self.stdout.write(f"Role {result.role} on audit_auditevent: {granted}.")
        if result.superuser:
            self.stdout.write("  It is a superuser: it can do anything, triggers included.")
        if result.owner:
            self.stdout.write("  It owns the table: it can grant itself anything, drop triggers.")
        if result.can_alter_rows:
            raise CommandError(
                f"role {result.role} could change or remove audit rows: connect the app as a "
                "role set up with `manage.py audit_privileges`",
                returncode=1,
            )
        self.stdout.write("It can only read and append audit rows.")
