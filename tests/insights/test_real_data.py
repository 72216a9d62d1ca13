"""After importing each real extract, the dashboard's counts by area (beat or district) and by day
equal counts computed here, independently, from the raw CSV (our own parsing, not the importer's).

Which rows become checks is read from the data READMEs: San Diego CW, 5150, 5150V; Milwaukee
WELFARE CITIZEN; Berkeley 1042, 5150, 1056 (and not 300WI, child welfare).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from wellcheck.accounts.models import Agency, User
from wellcheck.accounts.permissions import Role
from wellcheck.insights.filters import AreaScope, Filters
from wellcheck.insights.models import DirtyDay
from wellcheck.insights.selectors import by_area, calls_share, make_context, volume_by_day

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "cfs"

try:
    from wellcheck.intake.testing import import_file
except ImportError:  # pragma: no cover - the importer is another issue's work
    import_file = None  # type: ignore[assignment]


FILES = {
    "san_diego": {
        "path": DATA / "san_diego" / "pd_calls_for_service_2023_datasd.csv",
        "time": ("date_time", "%Y-%m-%d %H:%M:%S"),
        "type": "call_type",
        "unit": "beat",
        "checks": {"CW", "5150", "5150V"},
        "missing_unit": {"-1", ""},
        "fallback": "UNKNOWN",
        "zone": "America/Los_Angeles",
        "calls": 26595,
    },
    "milwaukee": {
        "path": DATA / "milwaukee" / "calls_2018-05.csv",
        "time": ("time", "%Y-%m-%d %H:%M:%S"),
        "type": "nature",
        "unit": "district",
        "checks": {"WELFARE CITIZEN"},
        "missing_unit": {""},
        "fallback": "UNKNOWN",
        "zone": "America/Chicago",
        "calls": 33968,
    },
    "berkeley": {
        "path": DATA / "berkeley" / "calls_2014-07_2014-11.csv",
        "time": ("Date-Time", "%m/%d/%Y %H:%M:%S"),
        "type": "Call-Incident Type",
        "unit": None,
        "checks": {"1042", "5150", "1056"},
        "missing_unit": set(),
        "fallback": "CITYWIDE",
        "zone": "America/Los_Angeles",
        "calls": 25151,
    },
}


def raw_counts(spec: dict) -> tuple[Counter[str], Counter[dt.date]]:
    """Checks per unit code and per local day, straight from the CSV."""
    by_unit: Counter[str] = Counter()
    by_day: Counter[dt.date] = Counter()
    time_col, fmt = spec["time"]
    with spec["path"].open(newline="", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            if (row.get(spec["type"]) or "").strip() not in spec["checks"]:
                continue
            unit = (row.get(spec["unit"]) or "").strip() if spec["unit"] else ""
            if not spec["unit"] or unit in spec["missing_unit"]:
                unit = spec["fallback"]
            by_unit[unit] += 1
            by_day[dt.datetime.strptime(row[time_col].strip(), fmt).date()] += 1
    return by_unit, by_day


def dashboard_counts(agency: Agency, first: dt.date, last: dt.date):
    analyst = User.objects.create(
        username=f"analyst-{agency.slug}", agency=agency, role=Role.ANALYST
    )
    areas = AreaScope(analyst)
    filters = Filters(first=first.replace(day=1), last=last.replace(day=1))
    ctx = make_context(analyst, filters, areas)
    area_rows = {label.split(" ")[0]: n for label, n in by_area(ctx).rows}
    day_rows = {dt.date.fromisoformat(d): n for d, n in volume_by_day(ctx).rows}
    return area_rows, day_rows, calls_share(ctx)


@pytest.mark.parametrize("name", ["san_diego", "milwaukee", "berkeley"])
def test_dashboard_counts_equal_raw_file(name: str) -> None:
    spec = FILES[name]
    if not spec["path"].exists():
        pytest.skip(f"real data absent: {spec['path']}")
    if import_file is None:
        pytest.skip("the intake helper wellcheck.intake.testing.import_file is missing")
    agency = Agency.objects.create(name=name, slug=name.replace("_", ""), time_zone=spec["zone"])
    import_file(agency, name)
    # no explicit rebuild: the importer marks the days dirty and the dashboard read refreshes
    by_unit, by_day = raw_counts(spec)
    assert sum(by_unit.values()) > 500
    areas, days, share = dashboard_counts(agency, min(by_day), max(by_day))
    assert areas == dict(by_unit)
    assert days == dict(by_day)
    welfare_calls = dict(share.rows)["All imported calls"]
    assert welfare_calls == spec["calls"]


def test_import_marks_rollups_dirty() -> None:
    spec = FILES["berkeley"]
    if import_file is None or not spec["path"].exists():
        pytest.skip("importer or real data absent")
    agency = Agency.objects.create(name="bpd", slug="bpd", time_zone=spec["zone"])
    import_file(agency, "berkeley")
    _, by_day = raw_counts(spec)
    marked = set(DirtyDay.objects.filter(agency=agency).values_list("day", flat=True))
    assert set(by_day) <= marked
