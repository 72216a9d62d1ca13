"""CheckDetail: identifying values encrypted (incident number, address, coordinates, rationale,
narrative). ``address_key`` stays the blind index."""

from django.db import migrations

import wellcheck.crypto.fields


def encrypt_existing(apps, schema_editor):
    from wellcheck.crypto.migrate import encrypt_columns

    encrypt_columns(
        schema_editor,
        table="checks_checkdetail",
        pk_column="check_record_id",
        model_label="checks.checkdetail",
        columns={
            "incident_number": "text",
            "address": "text",
            "latitude": "decimal",
            "longitude": "decimal",
            "triage_rationale": "text",
            "narrative": "text",
        },
        extra_columns=("person_id",),
        scope_of_row=lambda row: f"person:{row['person_id']}" if row["person_id"] else "global",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("checks", "0003_detail_address_key"),
        ("crypto", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="checkdetail",
            name="incident_number",
            field=wellcheck.crypto.fields.EncryptedCharField(blank=True, max_length=40),
        ),
        migrations.AlterField(
            model_name="checkdetail",
            name="address",
            field=wellcheck.crypto.fields.EncryptedCharField(
                blank=True, help_text="Block address or intersection.", max_length=300
            ),
        ),
        migrations.AlterField(
            model_name="checkdetail",
            name="latitude",
            field=wellcheck.crypto.fields.EncryptedDecimalField(
                blank=True, decimal_places=6, max_digits=9, null=True
            ),
        ),
        migrations.AlterField(
            model_name="checkdetail",
            name="longitude",
            field=wellcheck.crypto.fields.EncryptedDecimalField(
                blank=True, decimal_places=6, max_digits=9, null=True
            ),
        ),
        migrations.AlterField(
            model_name="checkdetail",
            name="triage_rationale",
            field=wellcheck.crypto.fields.EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="checkdetail",
            name="narrative",
            field=wellcheck.crypto.fields.EncryptedTextField(blank=True),
        ),
        migrations.RunPython(encrypt_existing, migrations.RunPython.noop),
    ]
