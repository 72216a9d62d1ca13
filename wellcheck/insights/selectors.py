"""Dashboard reads: every panel is a function of (context) -> Panel, reading cells only.

Analysts hold only ``AGGREGATE_VIEW``: nothing here returns a check, a person, an address or a
narrative. Cells come from :mod:`wellcheck.insights.sources` (stored rollups through
``restrict``, or computed from the actor's restricted checks when a reason/outcome filter is set).
Each panel issues one or two queries; ``dashboard`` refreshes dirty rollups first.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from wellcheck.accounts.models import User
from wellcheck.accounts.permissions import Action
from wellcheck.checks.models import WellnessCheck
from wellcheck.checks.taxonomy import CodeCategory
from wellcheck.insights.cube import NONE_KEY, RESPONSE_BUCKETS, compute_cells, month_bounds
from wellcheck.insights.filters import AreaScope, Filters, add_months, code_labels
from wellcheck.insights.models import Grain
from wellcheck.insights.rollups import agency_zone, rollups_pending, rollups_refresh
from wellcheck.insights.sources import CellSource, ComputedSource, RollupSource
from wellcheck.insights.stats import BASELINE_WEEKS, TEST_NAME, rise_test

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HOUR_BLOCKS = ("00-04", "04-08", "08-12", "12-16", "16-20", "20-24")


def hotspot_min() -> int:
    return int(getattr(settings, "WELLCHECK_HOTSPOT_MIN_CELL", 5))


@dataclass
class Panel:
    """One chart and its numbers. ``rows`` (with ``columns``) is what the table and exports show."""

    slug: str
    title: str
    kind: str  # bars | line | heat | hexes | table
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    actor: User
    filters: Filters
    areas: AreaScope
    source: CellSource
    labels: dict[tuple[str, str], str]

    @property
    def area(self) -> list[int]:
        return [self.filters.area_id]


def make_context(actor: User, filters: Filters, areas: AreaScope) -> Context:
    """Refresh dirty rollups, then pick the source (stored cells, or computed for cross filters)."""
    if rollups_pending(agency_id=actor.agency_id):
        rollups_refresh(agency_id=actor.agency_id)
    source: CellSource
    if filters.crosses:
        zone = agency_zone(actor.agency_id)
        start, _ = month_bounds(add_months(filters.first, -3), zone)
        _, end = month_bounds(filters.last, zone)
        checks = WellnessCheck.objects.restrict(actor, Action.AGGREGATE_VIEW).filter(
            received_at__gte=start, received_at__lt=end
        )
        if filters.reason:
            through = WellnessCheck.reasons.through.objects.filter(code__code=filters.reason)
            checks = checks.filter(pk__in=through.values("wellnesscheck_id"))
        if filters.outcome:
            checks = checks.filter(outcome__code=filters.outcome)
        cells = compute_cells(agency_id=actor.agency_id, zone=zone, checks=checks)
        source = ComputedSource(cells, areas.allowed)
    else:
        source = RollupSource(actor)
    return Context(actor, filters, areas, source, code_labels(actor.agency_id))


def _month_sums(
    ctx: Context, dim: str, areas: list[int] | None = None, by: tuple[str, ...] = ("key",)
) -> list[dict[str, Any]]:
    f = ctx.filters
    return ctx.source.sums(dim, Grain.MONTH, areas or ctx.area, f.first, f.last, by)


def _days(ctx: Context) -> dict[dt.date, int]:
    f = ctx.filters
    rows = ctx.source.sums("all", Grain.DAY, ctx.area, f.first, f.last_day, ("period",))
    return {r["period"]: r["n"] for r in rows}


def volume_by_day(ctx: Context) -> Panel:
    counts = _days(ctx)
    rows = [[d.isoformat(), counts[d]] for d in sorted(counts)]
    series, day = [], ctx.filters.first
    while day <= ctx.filters.last_day:  # the chart shows days without checks as 0
        series.append((day.isoformat(), counts.get(day, 0)))
        day += dt.timedelta(days=1)
    return Panel(
        "volume_day", "Checks per day", "line", ["Day", "Checks"], rows, extra={"series": series}
    )


def volume_by_week(ctx: Context) -> Panel:
    weeks: dict[dt.date, int] = defaultdict(int)
    for d, n in _days(ctx).items():
        weeks[d - dt.timedelta(days=d.weekday())] += n
    rows = [[w.isoformat(), weeks[w]] for w in sorted(weeks)]
    title = "Checks per week (weeks start on Monday)"
    return Panel("volume_week", title, "line", ["Week", "Checks"], rows)


def volume_by_month(ctx: Context) -> Panel:
    rows = _month_sums(ctx, "all", by=("period",))
    out = [[r["period"].strftime("%Y-%m"), r["n"]] for r in rows]
    return Panel("volume_month", "Checks per month", "bars", ["Month", "Checks"], out)


def by_area(ctx: Context) -> Panel:
    kids = ctx.areas.children(ctx.filters.area_id)
    rows = _month_sums(ctx, "all", kids, by=("area_id",))
    counts = {r["area_id"]: r["n"] for r in rows}
    out = [[ctx.areas.label(a), counts.get(a, 0)] for a in kids]
    return Panel("by_area", "Checks by area", "bars", ["Area", "Checks"], out)


def hour_of_week(ctx: Context) -> Panel:
    grid = [[0] * 24 for _ in range(7)]
    for r in _month_sums(ctx, "how"):
        dow, hour = r["key"].split("-")
        grid[int(dow) - 1][int(hour)] += r["n"]
    rows = [[DAYS[d], *grid[d]] for d in range(7)]
    return Panel(
        "hour_of_week",
        "Checks by hour of the week",
        "heat",
        ["Day", *[f"{h:02d}" for h in range(24)]],
        rows,
    )


def _label(ctx: Context, category: str, key: str) -> str:
    return ctx.labels.get((category, key), "Not recorded" if key == NONE_KEY else key)


def _totals(ctx: Context) -> dict[str, Any]:
    f = ctx.filters
    return ctx.source.sums("all", Grain.MONTH, ctx.area, f.first, f.last)[0]


def _coded(ctx: Context, slug: str, dim: str, category: str, title: str, note: str = "") -> Panel:
    rows = [r for r in _month_sums(ctx, dim) if r["n"]]
    rows.sort(key=lambda r: -r["n"])
    out = [[_label(ctx, category, r["key"]), r["n"]] for r in rows]
    return Panel(slug, title, "bars", ["Category", "Checks"], out, note=note)


def by_initiator(ctx: Context) -> Panel:
    return _coded(ctx, "initiator", "initiator", CodeCategory.INITIATOR, "Who asked")


def by_reason(ctx: Context) -> Panel:
    return _coded(
        ctx,
        "reason",
        "reason",
        CodeCategory.REASON,
        "Reasons for concern",
        "A check may have several reasons: bars count mentions.",
    )


def by_outcome(ctx: Context) -> Panel:
    return _coded(ctx, "outcome", "outcome", CodeCategory.OUTCOME, "Outcomes")


def by_referral(ctx: Context) -> Panel:
    return _coded(
        ctx,
        "referral",
        "referral",
        CodeCategory.REFERRAL,
        "Referrals",
        "A check may have several referrals: bars count mentions.",
    )


def by_review(ctx: Context) -> Panel:
    return _coded(ctx, "review", "review", CodeCategory.OUTCOME_REVIEW, "Outcome-review results")


def response_times(ctx: Context) -> Panel:
    total = _totals(ctx)
    buckets = {r["key"]: r["n"] for r in _month_sums(ctx, "resp_bucket")}
    rows = [[label, buckets.get(label, 0)] for label, _ in RESPONSE_BUCKETS]
    mean_resp = total["resp_sum"] / total["resp_n"] / 60 if total["resp_n"] else None
    mean_scene = total["scene_sum"] / total["scene_n"] / 60 if total["scene_n"] else None
    note = "Mean received-to-arrived: {}; mean time on scene: {}.".format(
        f"{mean_resp:.1f} min" if mean_resp is not None else "no times recorded",
        f"{mean_scene:.1f} min" if mean_scene is not None else "no times recorded",
    )
    return Panel(
        "response",
        "Response times (received to arrived)",
        "bars",
        ["Response time", "Checks"],
        rows,
        note=note,
        extra={"mean_response_min": mean_resp, "mean_on_scene_min": mean_scene},
    )


def mental_health_share(ctx: Context) -> Panel:
    rows = _month_sums(ctx, "all", by=("period",))
    out = [
        [
            r["period"].strftime("%Y-%m"),
            r["n"],
            r["mh_n"],
            round(100 * r["mh_n"] / r["n"], 1) if r["n"] else 0.0,
        ]
        for r in rows
    ]
    n = sum(r["n"] for r in rows)
    mh = sum(r["mh_n"] for r in rows)
    note = f"{mh} of {n} checks ({100 * mh / n:.1f}%) were mental-health related." if n else ""
    return Panel(
        "mental_health",
        "Share of checks that were mental-health related (%)",
        "line",
        ["Month", "Checks", "Mental-health related", "Share %"],
        out,
        note=note,
        extra={"value_column": 3},
    )


def repeats(ctx: Context) -> Panel:
    total = _totals(ctx)["n"]
    got = {r["key"]: r["n"] for r in _month_sums(ctx, "repeat")}
    rows = [
        ["Same address as a check in the previous 12 months", got.get("address", 0)],
        ["Same person as a check in the previous 12 months", got.get("person", 0)],
        ["All checks", total],
    ]
    return Panel("repeats", "Repeat checks (counts only)", "bars", ["Kind", "Checks"], rows)


def follow_ups(ctx: Context) -> Panel:
    got = {r["key"]: r["n"] for r in _month_sums(ctx, "followup")}
    created, done = got.get("created", 0), got.get("completed", 0)
    rows = [["Created", created], ["Completed", done], ["Open", created - done]]
    note = f"{100 * done / created:.0f}% completed." if created else "No follow-ups in this period."
    return Panel("follow_ups", "Follow-ups", "bars", ["Follow-ups", "Count"], rows, note=note)


def calls_share(ctx: Context) -> Panel:
    got = {r["key"]: r["n"] for r in _month_sums(ctx, "calls")}
    total = sum(got.values())
    welfare = got.get("welfare_check", 0)
    rows = [
        ["Welfare checks", welfare],
        ["Mental-health calls", got.get("mental_health", 0)],
        ["Other calls", got.get("other", 0)],
        ["All imported calls", total],
    ]
    note = (
        f"Welfare checks were {100 * welfare / total:.1f}% of all imported dispatch calls."
        if total
        else "No dispatch calls imported for this period and area."
    )
    return Panel(
        "calls_share",
        "Welfare checks among all dispatch calls",
        "bars",
        ["Calls", "Count"],
        rows,
        note=note,
        extra={"share": welfare / total if total else None},
    )


def hotspots(ctx: Context) -> Panel:
    k = hotspot_min()
    rows = [r for r in _month_sums(ctx, "h3") if r["n"] >= k]
    rows.sort(key=lambda r: -r["n"])
    out = [[r["key"], r["n"], r["mh_n"] if r["mh_n"] >= k else None] for r in rows]
    note = (
        f"H3 cells (resolution 8, about 0.7 km²); cells with fewer than {k} checks are not "
        "shown, nor mental-health counts below that."
    )
    return Panel(
        "hotspots",
        "Hotspots",
        "hexes",
        ["H3 cell", "Checks", "Mental-health related"],
        out,
        note=note,
    )


def mh_demand(ctx: Context) -> Panel:
    kids = ctx.areas.children(ctx.filters.area_id)
    grid: dict[int, list[int]] = {a: [0] * 6 for a in kids}
    for r in _month_sums(ctx, "hour", kids, by=("area_id", "key")):
        hour = int(r["key"])
        grid.setdefault(r["area_id"], [0] * 6)[hour // 4] += r["mh_n"]
    rows = [[ctx.areas.label(a), *grid[a]] for a in kids]
    return Panel(
        "mh_demand",
        "Mental-health-related demand by area and time of day",
        "heat",
        ["Area", *HOUR_BLOCKS],
        rows,
        note="Where and when a co-responder or crisis team would meet most demand.",
    )


def rising(ctx: Context) -> Panel:
    """Weeks (inside the period) whose count rose significantly above the area's baseline."""
    f = ctx.filters
    kids = ctx.areas.children(f.area_id)
    first_week = f.first - dt.timedelta(days=f.first.weekday())
    start = first_week - dt.timedelta(weeks=BASELINE_WEEKS)
    rows = ctx.source.sums("all", Grain.DAY, kids, start, f.last_day, ("area_id", "week"))
    weekly: dict[int, dict[dt.date, int]] = {a: defaultdict(int) for a in kids}
    first_seen: dt.date | None = None
    for r in rows:
        monday = r["week"]
        monday = monday.date() if isinstance(monday, dt.datetime) else monday
        weekly.setdefault(r["area_id"], defaultdict(int))[monday] += r["n"]
        first_seen = monday if first_seen is None or monday < first_seen else first_seen
    last_full = f.last_day - dt.timedelta(days=(f.last_day.weekday() + 1) % 7)
    last_week = last_full - dt.timedelta(days=6)
    out = []
    if first_seen is not None:
        seen_monday = first_seen - dt.timedelta(days=first_seen.weekday())
        earliest = seen_monday + dt.timedelta(weeks=BASELINE_WEEKS)
        week = max(first_week, earliest)
        while week <= last_week:
            for a in kids:
                history = [
                    weekly[a].get(week - dt.timedelta(weeks=i), 0)
                    for i in range(BASELINE_WEEKS, 0, -1)
                ]
                t = rise_test(weekly[a].get(week, 0), history)
                if t.flagged:
                    out.append(
                        [
                            ctx.areas.label(a),
                            week.isoformat(),
                            t.count,
                            round(t.baseline_mean, 1),
                            f"{t.p_value:.2g}",
                        ]
                    )
            week += dt.timedelta(weeks=1)
    return Panel(
        "rising",
        "Weeks with a significant rise",
        "table",
        ["Area", "Week of", "Checks", "Baseline mean", "p-value"],
        out,
        note=f"Test: {TEST_NAME}.",
    )


PANELS: dict[str, Callable[[Context], Panel]] = {
    "volume_day": volume_by_day,
    "volume_week": volume_by_week,
    "volume_month": volume_by_month,
    "by_area": by_area,
    "hour_of_week": hour_of_week,
    "initiator": by_initiator,
    "reason": by_reason,
    "outcome": by_outcome,
    "referral": by_referral,
    "response": response_times,
    "mental_health": mental_health_share,
    "repeats": repeats,
    "review": by_review,
    "follow_ups": follow_ups,
    "calls_share": calls_share,
    "hotspots": hotspots,
    "mh_demand": mh_demand,
    "rising": rising,
}


def dashboard(*, actor: User, filters: Filters, areas: AreaScope) -> list[Panel]:
    ctx = make_context(actor, filters, areas)
    return [fn(ctx) for fn in PANELS.values()]


def panel(*, actor: User, filters: Filters, areas: AreaScope, slug: str) -> Panel | None:
    fn = PANELS.get(slug)
    return fn(make_context(actor, filters, areas)) if fn else None
