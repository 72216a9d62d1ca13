from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="DataKey",
            fields=[
                ("id", models.CharField(max_length=20, primary_key=True, serialize=False)),
                ("scope", models.CharField(db_index=True, max_length=60)),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("active", "Active (encrypts and decrypts)"),
                            ("retired", "Retired (decrypts only)"),
                            ("destroyed", "Destroyed (crypto-shredded)"),
                        ],
                        default="active",
                        max_length=10,
                    ),
                ),
                ("kek_id", models.CharField(db_index=True, max_length=60)),
                ("wrapped", models.TextField(blank=True)),
                ("created_at", models.DateTimeField()),
                ("retired_at", models.DateTimeField(blank=True, null=True)),
                ("destroyed_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("state", "active")),
                        fields=("scope",),
                        name="one_active_data_key_per_scope",
                    )
                ],
            },
        ),
    ]
