"""Person: name, birth date and aliases encrypted; blind indexes added and filled."""

import datetime as dt
import json

from django.db import migrations

import wellcheck.crypto.fields


def encrypt_existing(apps, schema_editor):
    from wellcheck.crypto.blind import person_indexes
    from wellcheck.crypto.migrate import encrypt_columns

    def indexes(row):
        dob = row["date_of_birth"]
        birth = None
        if dob and not str(dob).startswith("wc1:"):
            birth = dt.date.fromisoformat(str(dob)[:10])
        if str(row["given_name"] or "").startswith("wc1:"):
            return {}
        return person_indexes(row["given_name"] or "", row["family_name"] or "", birth)

    encrypt_columns(
        schema_editor,
        table="people_person",
        pk_column="id",
        model_label="people.person",
        columns={
            "given_name": "text",
            "family_name": "text",
            "date_of_birth": "date",
            "aliases": "json",
        },
        scope_of_row=lambda row: f"person:{row['id']}",
        after_row=indexes,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0001_initial"),
        ("crypto", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="person",
            name="given_name",
            field=wellcheck.crypto.fields.EncryptedCharField(blank=True, max_length=100),
        ),
        migrations.AlterField(
            model_name="person",
            name="family_name",
            field=wellcheck.crypto.fields.EncryptedCharField(blank=True, max_length=100),
        ),
        migrations.AlterField(
            model_name="person",
            name="date_of_birth",
            field=wellcheck.crypto.fields.EncryptedDateField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="person",
            name="aliases",
            field=wellcheck.crypto.fields.EncryptedJSONField(blank=True, default=list),
        ),
    ] + [
        migrations.AddField(
            model_name="person",
            name=name,
            field=wellcheck.crypto.fields.BlindIndexField(
                blank=True, db_index=indexed, default="", editable=False, max_length=16,
                indexer="wellcheck.crypto.blind.person_indexes_of",
            ),
        )
        for name, indexed in (
            ("name_key", True),
            ("name_phonetic_key", True),
            ("family_phonetic_key", True),
            ("birth_date_key", True),
            ("birth_year_key", False),
        )
    ] + [
        migrations.RunPython(encrypt_existing, migrations.RunPython.noop),
    ]
