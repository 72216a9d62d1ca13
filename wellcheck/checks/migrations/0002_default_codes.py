"""Load the shared starting taxonomy (wellcheck.checks.taxonomy) as agency-less codes."""

from django.db import migrations


def load(apps, schema_editor):
    from wellcheck.checks.taxonomy import DEFAULT_CODES

    Code = apps.get_model("checks", "Code")
    for category, codes in DEFAULT_CODES.items():
        for order, (code, label) in enumerate(codes):
            Code.objects.update_or_create(
                agency=None, category=str(category), code=code,
                defaults={"label": label, "sort_order": order, "active": True},
            )


def unload(apps, schema_editor):
    apps.get_model("checks", "Code").objects.filter(agency=None).delete()


class Migration(migrations.Migration):
    dependencies = [("checks", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
