"""The production privilege setup: the application's role may SELECT and INSERT audit
rows and nothing else (sql/app_role_privileges.sql), and a check of the current role."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from django.db import connections

SQL_FILE = Path(__file__).parent / "sql" / "app_role_privileges.sql"
TABLE = "audit_auditevent"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")
_VARIABLE = re.compile(r':"([a-z_]+)"')


def quote_identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier; ValueError unless it is a plain role name."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"{name!r} is not a plain PostgreSQL identifier")
    return f'"{name}"'


def render(*, app_role: str, owner_role: str, schema: str = "public") -> str:
    """The SQL of ``SQL_FILE`` with psql's ``:"variable"`` names filled in, quoted."""
    values = {
        "app_role": quote_identifier(app_role),
        "owner_role": quote_identifier(owner_role),
        "schema": quote_identifier(schema),
    }
    return _VARIABLE.sub(lambda match: values[match.group(1)], SQL_FILE.read_text("utf-8"))


@dataclass(frozen=True)
class RoleCheck:
    role: str
    superuser: bool
    owner: bool
    privileges: dict[str, bool]  # SELECT, INSERT, UPDATE, DELETE, TRUNCATE, TRIGGER

    @property
    def can_alter_rows(self) -> bool:
        """Whether this role could change or remove audit rows (or switch the triggers off)."""
        risky = ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER")
        return self.superuser or self.owner or any(self.privileges[p] for p in risky)


def check_current_role(using: str = "default") -> RoleCheck:
    """What the role this process connects as may do to the audit table (PostgreSQL)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        raise NotImplementedError("privileges exist on PostgreSQL only")
    names = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "TRIGGER")
    checks = ", ".join(f"has_table_privilege(%s, '{name}')" for name in names)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT current_user, rolsuper, pg_get_userbyid(c.relowner) = current_user, {checks} "  # noqa: S608 - constant names
            "FROM pg_roles r, pg_class c WHERE r.rolname = current_user AND c.oid = %s::regclass",
            [TABLE] * len(names) + [TABLE],
        )
        row = cursor.fetchone()
    if row is None:
        raise RuntimeError(f"no table {TABLE} or no role: has the database been migrated?")
    return RoleCheck(
        role=str(row[0]),
        superuser=bool(row[1]),
        owner=bool(row[2]),
        privileges=dict(zip(names, (bool(v) for v in row[3:]), strict=True)),
    )
