"""``seq`` becomes required and unique; the review page's indexes.

The page reads newest first by (created_at, id) (paging.py); each index leads with what
a filter compares and continues in that order, so a filter plus a date range is one
index range scan. The case-insensitive filters compare UPPER(column), hence expression
indexes. On PostgreSQL the indexes also carry the summary strip's columns (INCLUDE), and
a trigram index serves "reason contains" (pg_trgm, a trusted extension the database
owner may create).

``created_at`` loses its Python default: the chain stamps it under the append lock.
"""

from django.db import migrations, models
from django.db.models.functions import Upper

REVIEW_INDEXES = [
    models.Index(fields=["-created_at", "-id"], name="audit_created_idx"),
    models.Index(
        Upper("actor_username"),
        models.OrderBy(models.F("created_at"), descending=True),
        models.OrderBy(models.F("id"), descending=True),
        name="audit_actor_idx",
    ),
    models.Index(
        Upper("target_email"),
        models.OrderBy(models.F("created_at"), descending=True),
        models.OrderBy(models.F("id"), descending=True),
        name="audit_target_email_idx",
    ),
    models.Index(fields=["target_zoom_id", "-created_at", "-id"], name="audit_target_id_idx"),
    models.Index(fields=["action", "-created_at", "-id"], name="audit_action_idx"),
    models.Index(fields=["outcome", "-created_at", "-id"], name="audit_outcome_idx"),
    models.Index(fields=["request_id"], name="audit_request_idx"),
]

# On PostgreSQL the review indexes also carry the summary strip's columns, so that its
# count over the newest 10,000 matching rows is an index-only scan (no table reads).
# Django's migration state cannot give INCLUDE to one database only (on SQLite it is a
# warning in `check`), hence plain SQL; the key columns are those of REVIEW_INDEXES.
POSTGRESQL_COVERING = {
    "audit_created_idx": "(created_at DESC, id DESC) INCLUDE (action, outcome)",
    "audit_actor_idx": (
        "(upper(actor_username), created_at DESC, id DESC) INCLUDE (action, outcome)"
    ),
    "audit_target_email_idx": (
        "(upper(target_email), created_at DESC, id DESC) INCLUDE (action, outcome)"
    ),
    "audit_target_id_idx": "(target_zoom_id, created_at DESC, id DESC) INCLUDE (action, outcome)",
    "audit_action_idx": "(action, created_at DESC, id DESC) INCLUDE (outcome)",
    "audit_outcome_idx": "(outcome, created_at DESC, id DESC) INCLUDE (action)",
}
TRIGRAM_INDEX = (
    "CREATE INDEX audit_reason_trgm_idx ON audit_auditevent USING gin (upper(reason) gin_trgm_ops)"
)


def create_review_indexes(apps, schema_editor):
    model = apps.get_model("audit", "AuditEvent")
    postgresql = schema_editor.connection.vendor == "postgresql"
    for index in REVIEW_INDEXES:
        if postgresql and index.name in POSTGRESQL_COVERING:
            columns = POSTGRESQL_COVERING[index.name]
            sql = f"CREATE INDEX {index.name} ON audit_auditevent {columns}"
            schema_editor.execute(sql, params=None)
        else:
            schema_editor.add_index(model, index)
    if postgresql:
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm", params=None)
        schema_editor.execute(TRIGRAM_INDEX, params=None)


def drop_review_indexes(apps, schema_editor):
    model = apps.get_model("audit", "AuditEvent")
    for index in REVIEW_INDEXES:
        schema_editor.remove_index(model, index)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS audit_reason_trgm_idx", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_backfill_hash_chain"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(editable=False, unique=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="created_at",
            field=models.DateTimeField(),
        ),
        migrations.RemoveIndex(model_name="auditevent", name="audit_actor_idx"),
        migrations.RemoveIndex(model_name="auditevent", name="audit_target_email_idx"),
        migrations.RemoveIndex(model_name="auditevent", name="audit_target_id_idx"),
        migrations.RemoveIndex(model_name="auditevent", name="audit_action_idx"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(model_name="auditevent", index=index)
                for index in REVIEW_INDEXES
            ],
            database_operations=[
                migrations.RunPython(create_review_indexes, drop_review_indexes, elidable=False)
            ],
        ),
    ]
