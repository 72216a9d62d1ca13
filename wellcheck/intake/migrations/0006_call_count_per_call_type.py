"""Call counts: one row per (agency, category, beat, day) per batch, call types in a JSON map.

Before, the importer appended one row per (category, call type, beat, day) a batch changed; now
one row per (category, beat, day), with ``call_types`` = {call type: delta} and ``calls`` = the
sum of the map. Existing rows are converted in place: the old rows of each (agency, category,
beat, day) become one row whose map holds each call type's total (zero totals left out) and
whose ``calls`` is their sum, so every count per call type, beat and day is kept. Reversible:
going back writes one row per call type of each map.
"""

from itertools import groupby

from django.db import migrations, models
from django.db.models import Max, Sum

BATCH = 5000


def _old_rows(apps, schema_editor):
    """The rows already there (the ones this step writes come after the highest id)."""
    model = apps.get_model("intake", "CallCount")
    rows = model.objects.using(schema_editor.connection.alias)
    last = rows.aggregate(m=Max("id"))["m"]
    return model, (rows.filter(id__lte=last) if last is not None else None)


def _write(model, schema_editor, rows):
    manager = model.objects.using(schema_editor.connection.alias)
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            manager.bulk_create(batch)
            batch = []
    if batch:
        manager.bulk_create(batch)


def per_call_type_to_maps(apps, schema_editor):
    model, old = _old_rows(apps, schema_editor)
    if old is None:
        return
    key = ("agency_id", "category", "unit_code", "day")
    totals = (
        old.values_list(*key, "call_type")
        .annotate(n=Sum("calls"))
        .order_by(*key, "call_type")
        .iterator(chunk_size=BATCH)
    )

    def merged():
        for (agency_id, category, unit_code, day), group in groupby(totals, lambda r: r[:4]):
            types = {r[4]: r[5] for r in group if r[5]}
            if types:
                yield model(
                    agency_id=agency_id,
                    category=category,
                    unit_code=unit_code,
                    day=day,
                    call_type="",
                    calls=sum(types.values()),
                    call_types=types,
                )

    _write(model, schema_editor, merged())
    old.delete()


def maps_to_per_call_type(apps, schema_editor):
    model, old = _old_rows(apps, schema_editor)
    if old is None:
        return
    rows = old.values_list(
        "agency_id", "category", "unit_code", "day", "calls", "call_types"
    ).iterator(chunk_size=BATCH)

    def expanded():
        for agency_id, category, unit_code, day, calls, types in rows:
            for call_type, n in (types or {"": calls}).items():
                if n:
                    yield model(
                        agency_id=agency_id,
                        category=category,
                        unit_code=unit_code,
                        day=day,
                        call_type=call_type,
                        calls=n,
                        call_types={},
                    )

    _write(model, schema_editor, expanded())
    old.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0005_ledger_pages"),
    ]

    operations = [
        migrations.AddField(
            model_name="callcount",
            name="call_types",
            field=models.JSONField(
                default=dict,
                help_text="Calls added per call type: {call type: delta}, no zero delta.",
            ),
        ),
        migrations.RunPython(per_call_type_to_maps, maps_to_per_call_type),
        # A default for the column dropped next: going back adds it to rows that exist.
        migrations.AlterField(
            model_name="callcount",
            name="call_type",
            field=models.CharField(default="", max_length=40),
        ),
        migrations.RemoveField(
            model_name="callcount",
            name="call_type",
        ),
        migrations.AlterField(
            model_name="callcount",
            name="calls",
            field=models.IntegerField(
                default=0, help_text="Calls added, all call types (negative: moved away)."
            ),
        ),
    ]
