"""All dispatch calls, from the importer's ``intake.CallCount`` (per category, beat and local day).

Gives the 'calls' cells (key = call category: welfare_check, mental_health, other) so the dashboard
can show welfare checks as a share of all calls. When the intake app is not installed, or nothing
was imported, there are no such cells and the panel says so.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.apps import apps
from django.db import models
from django.db.models import Sum

from wellcheck.accounts.models import Unit
from wellcheck.insights.cube import Cell, CellSink, month_bounds
from wellcheck.insights.models import AgencyId, Grain


def _call_count_model() -> type[models.Model] | None:
    try:
        return apps.get_model("intake", "CallCount")
    except LookupError:
        return None


def other_call_cells(*, agency_id: AgencyId, month: dt.date, zone: ZoneInfo) -> list[Cell]:
    model = _call_count_model()
    if model is None:
        return []
    _, end = month_bounds(month, zone)
    next_month = end.astimezone(zone).date()
    rows = (
        model._default_manager.filter(agency_id=agency_id, day__gte=month, day__lt=next_month)
        .values("category", "unit_code", "day")
        .annotate(n=Sum("calls"))
        .order_by()
    )
    unit_of = dict(Unit.objects.filter(agency_id=agency_id).values_list("code", "id"))
    sink = CellSink(agency_id)
    for r in rows:
        unit_id = unit_of.get(r["unit_code"], -1)  # unknown beat: counted for the agency only
        for grain, period in ((Grain.DAY, r["day"]), (Grain.MONTH, month)):
            sink.add(unit_id, grain, period, "calls", r["category"], n=r["n"])
    return [c for c in sink.cells.values() if c.area_id != -1]
