"""Hash-chain columns on audit events, checkpoints, archives, unusual-access reports, triggers.

Existing events (written before the chain) are chained in ``id`` order by this migration with
canonical version 1; from then on ``audit_record`` chains every append. The triggers that make
the audit tables append-only are created last, per database vendor (``audit/triggers.py``).
"""

from django.db import migrations, models


def chain_existing(apps, schema_editor):
    from wellcheck.audit.canonical import GENESIS, canonical_bytes, chain_hash, row_values

    AuditEvent = apps.get_model("audit", "AuditEvent")
    prev = GENESIS
    for seq, event in enumerate(AuditEvent.objects.order_by("id").iterator(), start=1):
        event.seq = seq
        event.prev_hash = prev
        event.canon_version = 1
        values = {name: getattr(event, name) for name in (
            "seq", "occurred_at", "component", "event_type", "category", "actor_id",
            "actor_name", "agency_id", "outcome", "request_id", "client_ip", "target_type",
            "target_id", "reason", "recipients", "changes", "details",
        )}
        event.row_hash = chain_hash(prev, canonical_bytes(row_values(values)))
        event.save(update_fields=["seq", "prev_hash", "row_hash", "canon_version"])
        prev = event.row_hash


def create_triggers(apps, schema_editor):
    from wellcheck.audit.triggers import create_sql

    for statement in create_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    from wellcheck.audit.triggers import drop_sql

    for statement in drop_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelOptions(name="auditevent", options={"ordering": ["seq"]}),
        migrations.AlterField(
            model_name="auditevent", name="event_type",
            field=models.CharField(db_index=True, max_length=60),
        ),
        migrations.AddField(
            model_name="auditevent", name="seq", field=models.BigIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="auditevent", name="canon_version",
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.AddField(
            model_name="auditevent", name="prev_hash",
            field=models.CharField(default="", max_length=64), preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent", name="row_hash",
            field=models.CharField(default="", max_length=64), preserve_default=False,
        ),
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditevent", name="seq", field=models.BigIntegerField(unique=True),
        ),
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("tree_size", models.BigIntegerField(unique=True)),
                ("root_hash", models.CharField(max_length=64)),
                ("last_row_hash", models.CharField(max_length=64)),
                ("frontier", models.JSONField(default=list)),
                ("key_id", models.CharField(max_length=8)),
                ("note", models.TextField()),
                ("signed_at", models.DateTimeField()),
            ],
            options={"ordering": ["tree_size"]},
        ),
        migrations.CreateModel(
            name="AuditArchive",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("first_seq", models.BigIntegerField()),
                ("last_seq", models.BigIntegerField(unique=True)),
                ("last_hash", models.CharField(max_length=64)),
                ("frontier", models.JSONField(default=list)),
                ("file_name", models.CharField(max_length=300)),
                ("file_sha256", models.CharField(max_length=64)),
                ("event_count", models.BigIntegerField()),
                ("archived_at", models.DateTimeField()),
            ],
            options={"ordering": ["last_seq"]},
        ),
        migrations.CreateModel(
            name="UnusualAccessReport",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("agency_id", models.UUIDField(db_index=True)),
                ("period_start", models.DateTimeField()),
                ("period_end", models.DateTimeField()),
                ("created_at", models.DateTimeField()),
                ("findings", models.JSONField(default=list)),
            ],
            options={"ordering": ["-period_end"]},
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
