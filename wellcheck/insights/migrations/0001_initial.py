import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="DirtyDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
                ("marked_at", models.DateTimeField()),
                (
                    "agency",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.agency"
                    ),
                ),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("agency", "day"), name="dirty_day_unique")],
            },
        ),
        migrations.CreateModel(
            name="RollupCell",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("area_id", models.BigIntegerField(help_text="Unit id at any level, or 0 for the whole agency.")),
                ("grain", models.CharField(choices=[("day", "Local day"), ("month", "Local month")], max_length=5)),
                ("period", models.DateField(help_text="The local day, or the first day of the local month.")),
                ("dim", models.CharField(max_length=16)),
                ("key", models.CharField(blank=True, max_length=40)),
                ("n", models.IntegerField(default=0)),
                ("mh_n", models.IntegerField(default=0)),
                ("resp_sum", models.BigIntegerField(default=0)),
                ("resp_n", models.IntegerField(default=0)),
                ("scene_sum", models.BigIntegerField(default=0)),
                ("scene_n", models.IntegerField(default=0)),
                (
                    "agency",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.agency"
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["agency", "dim", "grain", "area_id", "period"], name="rollup_lookup")
                ],
            },
        ),
    ]
