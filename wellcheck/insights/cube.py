"""Turn a queryset of checks into rollup cells (the one aggregation code path).

The refresh stores what :func:`compute_cells` returns for one (agency, month); a dashboard with a
reason or outcome filter (which the cube does not cross) computes the same cells on the fly from
the actor's restricted queryset. Either way the panels read cells, so both paths count alike.

Every check contributes to its unit, each unit above it, and the whole agency (area 0). Days,
months and hours are local to the agency's time zone.

Counts only: ``CheckDetail`` is read for the blind address key and the person id (to count
repeat checks) and for coordinates (turned into an H3 cell id at once); none of these leaves
this module.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import h3
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, TruncDate, TruncMonth

from wellcheck.accounts.models import Unit
from wellcheck.checks.models import CheckDetail, FollowUp, WellnessCheck
from wellcheck.insights.models import WHOLE_AGENCY, AgencyId, Grain

H3_RESOLUTION = 8  # about 0.74 km² per cell: a few blocks, coarser than any address
REPEAT_WINDOW = dt.timedelta(days=365)
RESPONSE_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("0-5 min", 300),
    ("5-10 min", 600),
    ("10-20 min", 1200),
    ("20-30 min", 1800),
    ("30-60 min", 3600),
    ("60+ min", None),
)
NONE_KEY = "none"
MH_THROUGH = Q(wellnesscheck__mental_health_related=True)


@dataclass
class Cell:
    """One aggregate before it is stored (same fields as ``RollupCell``)."""

    area_id: int
    grain: str
    period: dt.date
    dim: str
    key: str
    n: int = 0
    mh_n: int = 0
    resp_sum: int = 0
    resp_n: int = 0
    scene_sum: int = 0
    scene_n: int = 0


CellKey = tuple[int, str, dt.date, str, str]


class CellSink:
    """Adds contributions of a unit to that unit, its ancestors and the whole agency."""

    def __init__(self, agency_id: AgencyId) -> None:
        parents = dict(Unit.objects.filter(agency_id=agency_id).values_list("id", "parent_id"))
        self._chains: dict[int, list[int]] = {}
        for unit_id in parents:
            chain: list[int] = []
            seen: set[int] = set()
            cur: int | None = unit_id
            while cur is not None and cur not in seen:
                seen.add(cur)
                chain.append(cur)
                cur = parents.get(cur)
            chain.append(WHOLE_AGENCY)
            self._chains[unit_id] = chain
        self.cells: dict[CellKey, Cell] = {}

    def add(
        self,
        unit_id: int,
        grain: str,
        period: dt.date,
        dim: str,
        key: str,
        *,
        n: int = 0,
        mh_n: int = 0,
        resp: tuple[int, int] = (0, 0),
        scene: tuple[int, int] = (0, 0),
    ) -> None:
        for area in self._chains.get(unit_id, [unit_id, WHOLE_AGENCY]):
            ck = (area, grain, period, dim, key)
            cell = self.cells.get(ck)
            if cell is None:
                cell = self.cells[ck] = Cell(area, grain, period, dim, key)
            cell.n += n
            cell.mh_n += mh_n
            cell.resp_sum += resp[0]
            cell.resp_n += resp[1]
            cell.scene_sum += scene[0]
            cell.scene_n += scene[1]


def _month(value: dt.date | dt.datetime) -> dt.date:
    return dt.date(value.year, value.month, 1)


def _bucket_case() -> Case:
    whens = [
        When(response_seconds__lt=limit, then=Value(i))
        for i, (_, limit) in enumerate(RESPONSE_BUCKETS)
        if limit is not None
    ]
    return Case(*whens, default=Value(len(RESPONSE_BUCKETS) - 1), output_field=IntegerField())


def compute_cells(
    *, agency_id: AgencyId, zone: ZoneInfo, checks: QuerySet[WellnessCheck]
) -> list[Cell]:
    """All cells for ``checks`` (which must belong to one agency). About nine grouped queries."""
    sink = CellSink(agency_id)
    _core(sink, zone, checks)
    _coded(sink, zone, checks)
    _multi(sink, zone, checks)
    _repeats(sink, zone, checks, agency_id)
    _follow_ups(sink, zone, checks)
    _hexes(sink, zone, checks)
    return list(sink.cells.values())


def _core(sink: CellSink, zone: ZoneInfo, checks: QuerySet[WellnessCheck]) -> None:
    """'all' by day and month, with response sums; 'how' (hour of the week) and 'hour' (hour of
    the day, 24 keys: cheaper to read for time-of-day panels) by month."""
    rows = (
        checks.annotate(
            day=TruncDate("received_at", tzinfo=zone),
            hour=ExtractHour("received_at", tzinfo=zone),
            dow=ExtractIsoWeekDay("received_at", tzinfo=zone),
        )
        .values("unit_id", "day", "hour", "dow", "mental_health_related")
        .annotate(
            n=Count("id"),
            rs=Sum("response_seconds"),
            rn=Count("response_seconds"),
            ss=Sum("on_scene_seconds"),
            sn=Count("on_scene_seconds"),
        )
        .order_by()
    )
    for r in rows:
        day = r["day"]
        mh = r["n"] if r["mental_health_related"] else 0
        kw = {
            "n": r["n"],
            "mh_n": mh,
            "resp": (r["rs"] or 0, r["rn"]),
            "scene": (r["ss"] or 0, r["sn"]),
        }
        sink.add(r["unit_id"], Grain.DAY, day, "all", "", **kw)
        sink.add(r["unit_id"], Grain.MONTH, _month(day), "all", "", **kw)
        sink.add(
            r["unit_id"],
            Grain.MONTH,
            _month(day),
            "how",
            f"{r['dow']}-{r['hour']:02d}",
            n=r["n"],
            mh_n=mh,
        )
        hour = f"{r['hour']:02d}"
        sink.add(r["unit_id"], Grain.MONTH, _month(day), "hour", hour, n=r["n"], mh_n=mh)


def _coded(sink: CellSink, zone: ZoneInfo, checks: QuerySet[WellnessCheck]) -> None:
    """Single-valued codes by month: initiator, triage, outcome, outcome review, state, buckets."""
    month = TruncMonth("received_at", tzinfo=zone)
    fields = {
        "initiator": F("initiator__code"),
        "triage": F("triage__code"),
        "outcome": F("outcome__code"),
        "review": F("outcome_review__code"),
        "state": F("state"),
        "resp_bucket": _bucket_case(),
        "co_responder": F("co_responder_present"),
    }
    for dim, expr in fields.items():
        qs = checks
        if dim == "resp_bucket":
            qs = qs.filter(response_seconds__isnull=False)
        rows = (
            qs.annotate(m=month, k=expr)
            .values("unit_id", "m", "k")
            .annotate(n=Count("id"), mh=Count("id", filter=Q(mental_health_related=True)))
            .order_by()
        )
        for r in rows:
            key = r["k"]
            if dim == "resp_bucket":
                key = RESPONSE_BUCKETS[key][0]
            elif key is None:
                key = NONE_KEY
            elif isinstance(key, bool):
                key = "yes" if key else "no"
            m0 = _month(r["m"])
            sink.add(r["unit_id"], Grain.MONTH, m0, dim, str(key), n=r["n"], mh_n=r["mh"])


def _multi(sink: CellSink, zone: ZoneInfo, checks: QuerySet[WellnessCheck]) -> None:
    """Reasons and referrals (several per check: cells count mentions)."""
    for dim, field in (("reason", "reasons"), ("referral", "referrals")):
        through = getattr(WellnessCheck, field).through
        rows = (
            through.objects.filter(wellnesscheck_id__in=checks.values("pk"))
            .annotate(
                m=TruncMonth("wellnesscheck__received_at", tzinfo=zone),
                unit_id=F("wellnesscheck__unit_id"),
                k=F("code__code"),
            )
            .values("unit_id", "m", "k")
            .annotate(n=Count("id"), mh=Count("id", filter=MH_THROUGH))
            .order_by()
        )
        for r in rows:
            sink.add(r["unit_id"], Grain.MONTH, _month(r["m"]), dim, r["k"], n=r["n"], mh_n=r["mh"])


def _repeats(
    sink: CellSink, zone: ZoneInfo, checks: QuerySet[WellnessCheck], agency_id: AgencyId
) -> None:
    """Checks with an earlier check at the same address (blind key) or for the same person within
    the previous 365 days. Counted per check, so months add up."""
    window = REPEAT_WINDOW
    for key, field in (("address", "address_key"), ("person", "person_id")):
        earlier = CheckDetail.objects.filter(
            check_record__agency_id=agency_id,
            **{field: OuterRef(f"detail__{field}")},
            check_record__received_at__lt=OuterRef("received_at"),
            check_record__received_at__gte=OuterRef("received_at") - window,
        )
        base = checks.exclude(**{f"detail__{field}__isnull": True})
        if field == "address_key":
            base = base.exclude(detail__address_key="")
        rows = (
            base.filter(Exists(earlier))
            .annotate(m=TruncMonth("received_at", tzinfo=zone))
            .values("unit_id", "m")
            .annotate(n=Count("id"), mh=Count("id", filter=Q(mental_health_related=True)))
            .order_by()
        )
        for r in rows:
            m0 = _month(r["m"])
            sink.add(r["unit_id"], Grain.MONTH, m0, "repeat", key, n=r["n"], mh_n=r["mh"])


def _follow_ups(sink: CellSink, zone: ZoneInfo, checks: QuerySet[WellnessCheck]) -> None:
    """Follow-ups created and completed, by the month of their check."""
    rows = (
        FollowUp.objects.filter(check_record__in=checks.values("pk"))
        .annotate(
            m=TruncMonth("check_record__received_at", tzinfo=zone),
            unit_id=F("check_record__unit_id"),
        )
        .values("unit_id", "m")
        .annotate(n=Count("id"), done=Count("id", filter=Q(completed_at__isnull=False)))
        .order_by()
    )
    for r in rows:
        sink.add(r["unit_id"], Grain.MONTH, _month(r["m"]), "followup", "created", n=r["n"])
        sink.add(r["unit_id"], Grain.MONTH, _month(r["m"]), "followup", "completed", n=r["done"])


def _hexes(sink: CellSink, zone: ZoneInfo, checks: QuerySet[WellnessCheck]) -> None:
    """H3 cells (resolution 8) of checks with coordinates. The coordinates are encrypted at rest;
    they are opened here, turned into a cell id at once and dropped (never stored or logged)."""
    months = dict(checks.annotate(m=TruncMonth("received_at", tzinfo=zone)).values_list("pk", "m"))
    details = (
        CheckDetail.objects.filter(check_record__in=checks.values("pk"), latitude__isnull=False)
        .select_related(None)
        .only("check_record_id", "latitude", "longitude")
        .annotate(unit_id=F("check_record__unit_id"), mh=F("check_record__mental_health_related"))
    )
    counts: dict[tuple[int, dt.date, str], list[int]] = defaultdict(lambda: [0, 0])
    for d in details.iterator(chunk_size=2000):
        lat, lng = d.latitude, d.longitude
        if lat is None or lng is None:
            continue
        cell = h3.latlng_to_cell(float(lat), float(lng), H3_RESOLUTION)
        c = counts[(d.unit_id, _month(months[d.check_record_id]), cell)]
        c[0] += 1
        c[1] += 1 if d.mh else 0
    for (unit_id, m, cell), (n, mh) in counts.items():
        sink.add(unit_id, Grain.MONTH, m, "h3", cell, n=n, mh_n=mh)


def month_bounds(month: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The aware start and end (exclusive) of a local month."""
    start = dt.datetime(month.year, month.month, 1, tzinfo=zone)
    nxt = dt.date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return start, dt.datetime(nxt.year, nxt.month, 1, tzinfo=zone)


def months_between(first: dt.date, last: dt.date) -> Iterable[dt.date]:
    cur = _month(first)
    while cur <= last:
        yield cur
        cur = dt.date(cur.year + (cur.month == 12), cur.month % 12 + 1, 1)
