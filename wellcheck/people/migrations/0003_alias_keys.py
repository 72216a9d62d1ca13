"""Aliases searchable through blind indexes: one row of indexes per alias, filled for the
persons already stored (their aliases are decrypted here, in batches; nothing is written in
plaintext)."""

import json

import django.db.models.deletion
from django.db import migrations, models


def fill_alias_keys(apps, schema_editor):
    from wellcheck.crypto import envelope
    from wellcheck.crypto.blind import alias_indexes

    conn = schema_editor.connection
    with conn.cursor() as cur:
        cur.execute("SELECT id, aliases FROM people_person WHERE aliases <> ''")
        while True:
            rows = cur.fetchmany(1000)
            if not rows:
                break
            values = []
            for pk, cell in rows:
                if envelope.is_ciphertext(cell):
                    cell = envelope.decrypt(
                        cell, model_label="people.person", pk=pk, field="aliases"
                    )
                for alias in json.loads(cell) or []:
                    keys = alias_indexes(str(alias))
                    if keys["name_key"]:
                        values.append(
                            (pk, keys["name_key"], keys["name_phonetic_key"],
                             keys["family_phonetic_key"])
                        )
            with conn.cursor() as out:
                out.executemany(
                    "INSERT INTO people_personaliaskey (person_id, name_key, name_phonetic_key,"
                    " family_phonetic_key) VALUES (%s, %s, %s, %s)",
                    values,
                )


class Migration(migrations.Migration):

    dependencies = [
        ('people', '0002_encrypt_person'),
    ]

    operations = [
        migrations.CreateModel(
            name='PersonAliasKey',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name_key', models.CharField(max_length=16)),
                ('name_phonetic_key', models.CharField(max_length=16)),
                ('family_phonetic_key', models.CharField(max_length=16)),
                ('person', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='alias_keys', to='people.person')),
            ],
            options={
                'indexes': [models.Index(fields=['name_key'], name='people_alias_name_key'), models.Index(fields=['name_phonetic_key'], name='people_alias_phonetic_key'), models.Index(fields=['family_phonetic_key'], name='people_alias_family_key')],
            },
        ),
        migrations.RunPython(fill_alias_keys, migrations.RunPython.noop),
    ]
