"""Keeping the rollup cube current: services mark days dirty, readers refresh before reading.

Contract for every writer of ``WellnessCheck`` (check services, the bulk importer):
call :func:`rollups_mark_dirty` **inside the same transaction** as the change, with the agency
and the local day(s) the change touched (an aware datetime is turned into the agency's local day).
A committed change therefore always leaves a mark, and a rolled-back one leaves none.

:func:`rollups_refresh` rebuilds every marked (agency, month) from the base table in one
transaction per month, under a per-agency lock, then clears exactly the marks it read (a mark made
while it ran survives for the next refresh). See docs/adr/0008-analytics-rollups.md.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from wellcheck.accounts.models import Agency
from wellcheck.checks.models import WellnessCheck
from wellcheck.insights.cube import compute_cells, month_bounds
from wellcheck.insights.models import AgencyId, DirtyDay, Grain, RollupCell
from wellcheck.insights.other_calls import other_call_cells

SUM_FIELDS = ("n", "mh_n", "resp_sum", "resp_n", "scene_sum", "scene_n")

DayLike = dt.date | dt.datetime | str


@lru_cache(maxsize=256)
def _agency_zone(agency_id: str) -> ZoneInfo:
    tz = Agency.objects.filter(pk=agency_id).values_list("time_zone", flat=True).first()
    return ZoneInfo(tz or "UTC")


def agency_zone(agency_id: AgencyId) -> ZoneInfo:
    return _agency_zone(str(agency_id))


def local_day(value: DayLike, zone: ZoneInfo) -> dt.date:
    if isinstance(value, str):  # an ISO date or datetime, e.g. from an audit snapshot
        value = dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        if timezone.is_naive(value):
            raise ValueError("rollups_mark_dirty needs an aware datetime or a date.")
        return value.astimezone(zone).date()
    return value


def rollups_mark_dirty(
    *, agency_id: AgencyId, day: DayLike | None = None, days: Iterable[DayLike | None] = ()
) -> int:
    """Mark local day(s) of an agency as changed. Call inside the writer's transaction.

    ``day``/``days`` take dates (already local) or aware datetimes (converted to the agency's
    local day); ``None`` entries are ignored. Returns the number of distinct days marked.
    """
    zone = agency_zone(agency_id)
    wanted = {local_day(d, zone) for d in (day, *days) if d is not None}
    if not wanted:
        return 0
    now = timezone.now()
    DirtyDay.objects.bulk_create(
        [DirtyDay(agency_id=agency_id, day=d, marked_at=now) for d in sorted(wanted)],
        update_conflicts=True,
        unique_fields=["agency", "day"],
        update_fields=["marked_at"],
    )
    return len(wanted)


def rollups_pending(*, agency_id: AgencyId) -> bool:
    return DirtyDay.objects.filter(agency_id=agency_id).exists()


def rollups_refresh(*, agency_id: AgencyId | None = None) -> int:
    """Rebuild the months with dirty days (of one agency, or all). Returns months rebuilt."""
    marks = DirtyDay.objects.all()
    if agency_id is not None:
        marks = marks.filter(agency_id=agency_id)
    by_month: dict[tuple[AgencyId, dt.date], list[tuple[dt.date, dt.datetime]]] = defaultdict(list)
    for agency, day, marked_at in marks.values_list("agency_id", "day", "marked_at"):
        by_month[(agency, dt.date(day.year, day.month, 1))].append((day, marked_at))
    for (owner, month), read in sorted(by_month.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
        _rebuild_month(agency_id=owner, month=month, marks_read=read)
    return len(by_month)


def rollups_rebuild_all(*, agency_id: AgencyId) -> int:
    """Mark every month that has checks, then refresh (first build, or after a restore)."""
    zone = agency_zone(agency_id)
    times = WellnessCheck.objects.filter(agency_id=agency_id).aggregate(
        first=models.Min("received_at"), last=models.Max("received_at")
    )
    if times["first"] is None:
        RollupCell.objects.filter(agency_id=agency_id).delete()
        return 0
    first, last = local_day(times["first"], zone), local_day(times["last"], zone)
    months = []
    cur = dt.date(first.year, first.month, 1)
    while cur <= last:
        months.append(cur)
        cur = dt.date(cur.year + (cur.month == 12), cur.month % 12 + 1, 1)
    with transaction.atomic():
        rollups_mark_dirty(agency_id=agency_id, days=months)
    RollupCell.objects.filter(agency_id=agency_id).exclude(period__gte=months[0]).delete()
    return rollups_refresh(agency_id=agency_id)


def _rebuild_month(
    *, agency_id: AgencyId, month: dt.date, marks_read: list[tuple[dt.date, dt.datetime]]
) -> None:
    zone = agency_zone(agency_id)
    start, end = month_bounds(month, zone)
    with transaction.atomic():
        # One refresher per agency at a time: otherwise two rebuilds of one month could both
        # delete, then both insert (READ COMMITTED) and double the counts.
        Agency.objects.select_for_update(no_key=True).filter(pk=agency_id).values_list("pk").first()
        checks = WellnessCheck.objects.filter(
            agency_id=agency_id, received_at__gte=start, received_at__lt=end
        )
        cells = compute_cells(agency_id=agency_id, zone=zone, checks=checks)
        cells.extend(other_call_cells(agency_id=agency_id, month=month, zone=zone))
        next_month = end.astimezone(zone).date()
        RollupCell.objects.filter(agency_id=agency_id).filter(
            Q(grain=Grain.MONTH, period=month)
            | Q(grain=Grain.DAY, period__gte=month, period__lt=next_month)
        ).delete()
        RollupCell.objects.bulk_create(
            [RollupCell(agency_id=agency_id, **vars(c)) for c in cells], batch_size=2000
        )
        _rebuild_year(agency_id=agency_id, year=month.year)
        stale = Q()
        for day, marked_at in marks_read:
            stale |= Q(day=day, marked_at=marked_at)
        DirtyDay.objects.filter(agency_id=agency_id).filter(stale).delete()


def _rebuild_year(*, agency_id: AgencyId, year: int) -> None:
    """Year rows = the sum of that year's month rows (so a long period reads few rows)."""
    RollupCell.objects.filter(
        agency_id=agency_id, grain=Grain.YEAR, period=dt.date(year, 1, 1)
    ).delete()
    sums = {s: models.Sum(s) for s in SUM_FIELDS}
    rows = (
        RollupCell.objects.filter(
            agency_id=agency_id,
            grain=Grain.MONTH,
            period__gte=dt.date(year, 1, 1),
            period__lt=dt.date(year + 1, 1, 1),
        )
        .values("area_id", "dim", "key")
        .annotate(**sums)
        .order_by()
    )
    RollupCell.objects.bulk_create(
        [
            RollupCell(agency_id=agency_id, grain=Grain.YEAR, period=dt.date(year, 1, 1), **r)
            for r in rows.iterator(chunk_size=5000)
        ],
        batch_size=5000,
    )
