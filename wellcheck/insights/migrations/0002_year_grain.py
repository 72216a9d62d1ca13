from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="rollupcell",
            name="grain",
            field=models.CharField(
                choices=[
                    ("day", "Local day"),
                    ("month", "Local month"),
                    ("year", "Local calendar year (sum of its months)"),
                ],
                max_length=5,
            ),
        ),
        migrations.AlterField(
            model_name="rollupcell",
            name="period",
            field=models.DateField(
                help_text="The local day, or the first day of the month or year."
            ),
        ),
    ]
