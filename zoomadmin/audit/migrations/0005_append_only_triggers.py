"""Append-only in the database: triggers refuse UPDATE, DELETE and TRUNCATE of audit rows.

They stop the table's owner too, and on PostgreSQL they are ``ENABLE ALWAYS`` so that
``SET session_replication_role = replica`` (which silences ordinary triggers) does not
switch them off. Only a superuser or the owner can remove them (ALTER TABLE), and
``audit_verify`` notices both that and whatever was changed meanwhile. The stronger
layer is privileges: the application's role holds only SELECT and INSERT on the table
(``manage.py audit_privileges``, README "The audit log as evidence").

On SQLite there is no TRUNCATE: ``DELETE FROM`` without a WHERE is what empties a table,
and the DELETE trigger refuses it (a table with triggers never takes SQLite's truncate
shortcut). Beware: on SQLite, a later migration that alters this table makes Django
rebuild it (new table, copy, drop, rename), and DROP TABLE takes the triggers with it:
such a migration must run ``install`` again. tests/audit/test_append_only.py fails if the
triggers are missing after all migrations.
"""

from django.db import migrations

TABLE = "audit_auditevent"
REFUSED = "audit_auditevent is append-only"

POSTGRESQL_INSTALL = [
    f"""
    CREATE OR REPLACE FUNCTION audit_auditevent_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{REFUSED}: % refused', TG_OP
            USING HINT = 'Audit rows are never changed or removed; see audit_archive.';
    END
    $$
    """,
    f"""
    CREATE TRIGGER audit_auditevent_no_update BEFORE UPDATE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION audit_auditevent_refuse_change()
    """,
    f"""
    CREATE TRIGGER audit_auditevent_no_delete BEFORE DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION audit_auditevent_refuse_change()
    """,
    f"""
    CREATE TRIGGER audit_auditevent_no_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_auditevent_refuse_change()
    """,
    f"ALTER TABLE {TABLE} ENABLE ALWAYS TRIGGER audit_auditevent_no_update",
    f"ALTER TABLE {TABLE} ENABLE ALWAYS TRIGGER audit_auditevent_no_delete",
    f"ALTER TABLE {TABLE} ENABLE ALWAYS TRIGGER audit_auditevent_no_truncate",
]
POSTGRESQL_REMOVE = [
    f"DROP TRIGGER IF EXISTS audit_auditevent_no_update ON {TABLE}",
    f"DROP TRIGGER IF EXISTS audit_auditevent_no_delete ON {TABLE}",
    f"DROP TRIGGER IF EXISTS audit_auditevent_no_truncate ON {TABLE}",
    "DROP FUNCTION IF EXISTS audit_auditevent_refuse_change()",
]

SQLITE_INSTALL = [
    f"""
    CREATE TRIGGER audit_auditevent_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{REFUSED}: UPDATE refused'); END
    """,
    f"""
    CREATE TRIGGER audit_auditevent_no_delete BEFORE DELETE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{REFUSED}: DELETE refused'); END
    """,
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_auditevent_no_update",
    "DROP TRIGGER IF EXISTS audit_auditevent_no_delete",
]


def _statements(vendor, *, install):
    if vendor == "postgresql":
        return POSTGRESQL_INSTALL if install else POSTGRESQL_REMOVE
    if vendor == "sqlite":
        return SQLITE_INSTALL if install else SQLITE_REMOVE
    raise NotImplementedError(f"append-only triggers for {vendor} are not written yet")


def install(apps, schema_editor):
    for sql in _statements(schema_editor.connection.vendor, install=True):
        schema_editor.execute(sql, params=None)


def remove(apps, schema_editor):
    for sql in _statements(schema_editor.connection.vendor, install=False):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_chain_constraints_and_review_indexes"),
    ]

    operations = [
        migrations.RunPython(install, remove, elidable=False),
    ]
