"""Where panels read cells from: the stored rollups, or cells computed on the fly.

Both sources answer the same question, ``sums(dim, grain, areas, first, last, by)``: the summed
counts of the cells of one dimension, for some areas, between two periods, grouped by some of
(area_id, period, key). :class:`RollupSource` reads ``RollupCell`` through the door
(``restrict(actor, AGGREGATE_VIEW)``); :class:`ComputedSource` aggregates cells computed from the
actor's restricted checks (used when a reason or outcome filter crosses dimensions the cube does
not cross).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Protocol

from django.db.models import Q, Sum
from django.db.models.functions import TruncWeek

from wellcheck.accounts.models import User
from wellcheck.accounts.permissions import Action
from wellcheck.insights.cube import Cell
from wellcheck.insights.models import Grain, RollupCell

SUMS = ("n", "mh_n", "resp_sum", "resp_n", "scene_sum", "scene_n")
Row = dict[str, Any]


class CellSource(Protocol):
    def sums(
        self,
        dim: str,
        grain: str,
        areas: Sequence[int],
        first: dt.date,
        last: dt.date,
        by: Sequence[str] = (),
    ) -> list[Row]: ...


class RollupSource:
    """Stored rollups, restricted to what the actor may see."""

    def __init__(self, actor: User) -> None:
        self.actor = actor
        self.queries = 0

    def sums(
        self,
        dim: str,
        grain: str,
        areas: Sequence[int],
        first: dt.date,
        last: dt.date,
        by: Sequence[str] = (),
    ) -> list[Row]:
        qs = RollupCell.objects.restrict(self.actor, Action.AGGREGATE_VIEW).filter(dim=dim)
        qs = qs.filter(_periods(grain, first, last, by))
        qs = qs.filter(area_id=areas[0]) if len(areas) == 1 else qs.filter(area_id__in=areas)
        self.queries += 1
        if not by:
            row = qs.aggregate(**{s: Sum(s) for s in SUMS})
            return [{s: row[s] or 0 for s in SUMS}]
        if "week" in by:  # Monday of the period's week, summed in the database
            qs = qs.annotate(week=TruncWeek("period"))
        elif dim == "all" and grain == Grain.DAY and set(by) >= {"area_id", "period"}:
            # one 'all' row per area and day already: no GROUP BY needed
            return list(qs.values(*by, *SUMS).order_by(*by))
        return list(qs.values(*by).annotate(**{s: Sum(s) for s in SUMS}).order_by(*by))


def _periods(grain: str, first: dt.date, last: dt.date, by: Sequence[str]) -> Q:
    """Months of whole calendar years are read from the year rows (12x fewer rows)."""
    if grain != Grain.MONTH or "period" in by:
        return Q(grain=grain, period__gte=first, period__lte=last)
    years = [
        y
        for y in range(first.year, last.year + 1)
        if first <= dt.date(y, 1, 1) and dt.date(y, 12, 1) <= last
    ]
    if not years:
        return Q(grain=grain, period__gte=first, period__lte=last)
    months = []
    cur = first
    while cur <= last:
        if cur.year not in years:
            months.append(cur)
        cur = dt.date(cur.year + (cur.month == 12), cur.month % 12 + 1, 1)
    year_q = Q(grain=Grain.YEAR, period__in=[dt.date(y, 1, 1) for y in years])
    return year_q | Q(grain=Grain.MONTH, period__in=months) if months else year_q


class ComputedSource:
    """Cells computed from a filtered, restricted queryset (kept in memory for one request)."""

    def __init__(self, cells: list[Cell], allowed_areas: set[int] | None) -> None:
        self.cells = [c for c in cells if allowed_areas is None or c.area_id in allowed_areas]

    def sums(
        self,
        dim: str,
        grain: str,
        areas: Sequence[int],
        first: dt.date,
        last: dt.date,
        by: Sequence[str] = (),
    ) -> list[Row]:
        wanted = set(areas)
        groups: dict[tuple[Any, ...], Row] = defaultdict(lambda: dict.fromkeys(SUMS, 0))
        for c in self.cells:
            if c.dim != dim or c.grain != grain or c.area_id not in wanted:
                continue
            if not first <= c.period <= last:
                continue
            gk = tuple(
                c.period - dt.timedelta(days=c.period.weekday()) if b == "week" else getattr(c, b)
                for b in by
            )
            g = groups[gk]
            for s in SUMS:
                g[s] += getattr(c, s)
        if not by:
            return [groups[()] if () in groups else dict.fromkeys(SUMS, 0)]
        out = []
        for gk in sorted(groups, key=lambda k: tuple(str(x) for x in k)):
            row = dict(zip(by, gk, strict=True))
            row.update(groups[gk])
            out.append(row)
        return out
