"""Link the rows written before the hash chain existed, oldest (lowest id) first.

Runs before the append-only triggers (0005) exist, so it may UPDATE. Stop the
application while migrating to this release: a row written between this migration and
0004 would have no ``seq`` and 0004 would refuse it.

Keyset batches keep memory flat however long the log already is. The hash format is
chain.py's version 1, which never changes (a new format gets a new version).
"""

from django.db import migrations

from zoomadmin.audit.chain import GENESIS_HASH, HASHED_FIELDS, row_digest

BATCH = 1000
_CONTENT = [name for name in HASHED_FIELDS if name not in ("seq", "prev_hash")]


def backfill(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    rows = AuditEvent.objects.using(schema_editor.connection.alias)
    seq, prev_hash, last_id = 0, GENESIS_HASH, 0
    while True:
        batch = list(rows.filter(id__gt=last_id).order_by("id").values(*_CONTENT)[:BATCH])
        if not batch:
            return
        for values in batch:
            seq += 1
            values.update(seq=seq, prev_hash=prev_hash)
            row_hash = row_digest(values)
            rows.filter(id=values["id"]).update(seq=seq, prev_hash=prev_hash, row_hash=row_hash)
            prev_hash, last_id = row_hash, values["id"]


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_hash_chain_fields"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
    ]
