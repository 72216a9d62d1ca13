"""The ledger's key and digest become 128-bit uuids (half the unique index of a 64-hex text key).

Existing ledgers are migrated in place: a source key's first 32 hex digits are its new key
(``intake.parse.ledger_key``), so importing a file again still finds every call; digests are
128-bit already (32 hex digits). Not reversible to the 64-digit keys (they are not kept).
"""

from django.db import migrations, models

TRUNCATE_KEYS = (
    "UPDATE intake_importedcall SET source_key = substr(source_key, 1, 32) "
    "WHERE length(source_key) > 32"
)


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0003_ledger_indexes"),
    ]

    operations = [
        migrations.RunSQL(TRUNCATE_KEYS, reverse_sql=migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="importedcall",
            name="source_key",
            field=models.UUIDField(
                help_text="First 128 bits of the keyed source key (intake.parse.ledger_key)."
            ),
        ),
        migrations.AlterField(
            model_name="importedcall",
            name="digest",
            field=models.UUIDField(help_text="Keyed 128-bit digest of the values stored."),
        ),
    ]
