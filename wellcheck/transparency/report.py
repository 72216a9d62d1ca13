"""The public transparency report of one agency for a month or a quarter.

Tables are counts of checks by area (the agency's top-level units, usually districts) and one
other dimension: outcome, who asked, reason, referral, time of day, mental-health relatedness and,
for a quarter, month. They are read from the rollup cube (month grain: aggregates only; no
person-level row is ever read here), optionally noised with OpenDP's discrete Laplace mechanism,
then protected by cell suppression (``disclosure.protect``) before anything leaves this module.

This is the one door for the public: there is no actor, so the selector reads the agency's
rollups directly, and every number it returns has passed disclosure control.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from wellcheck.accounts.models import Agency, Unit
from wellcheck.checks.models import Code
from wellcheck.checks.taxonomy import CodeCategory
from wellcheck.insights.filters import add_months
from wellcheck.insights.models import WHOLE_AGENCY, Grain, RollupCell
from wellcheck.insights.rollups import rollups_pending, rollups_refresh
from wellcheck.transparency.disclosure import DEFAULT_THRESHOLD, protect
from wellcheck.transparency.models import Release

PERIOD_RE = re.compile(r"^(\d{4})-(?:(\d{2})|Q([1-4]))$")
BLOCKS = ("00:00-03:59", "04:00-07:59", "08:00-11:59", "12:00-15:59", "16:00-19:59", "20:00-23:59")


@dataclass(frozen=True)
class Period:
    label: str
    months: tuple[dt.date, ...]

    @property
    def kind(self) -> str:
        return "quarter" if len(self.months) == 3 else "month"


def parse_period(value: str) -> Period:
    """``YYYY-MM`` or ``YYYY-Qn``; anything else is refused with the expected form."""
    m = PERIOD_RE.match(value.strip())
    if not m:
        raise ValueError(f"Give the period as YYYY-MM or YYYY-Qn (got {value[:20]!r}).")
    year = int(m.group(1))
    if m.group(2):
        month = int(m.group(2))
        if not 1 <= month <= 12:
            raise ValueError(f"There is no month {month:02d}.")
        return Period(f"{year}-{month:02d}", (dt.date(year, month, 1),))
    q = int(m.group(3))
    first = dt.date(year, 3 * q - 2, 1)
    return Period(f"{year}-Q{q}", tuple(add_months(first, k) for k in range(3)))


@dataclass(frozen=True)
class TableSpec:
    name: str
    title: str
    dim: str
    category: str = ""
    mentions: bool = False  # several per check: cells count mentions


Counted = tuple["TableSpec", list[str], list[list[int]]]

SPECS = (
    TableSpec("outcome", "Checks by area and outcome", "outcome", CodeCategory.OUTCOME),
    TableSpec("initiator", "Checks by area and who asked", "initiator", CodeCategory.INITIATOR),
    TableSpec(
        "reason", "Reasons for concern by area (mentions)", "reason", CodeCategory.REASON, True
    ),
    TableSpec("referral", "Referrals by area (mentions)", "referral", CodeCategory.REFERRAL, True),
    TableSpec("time_of_day", "Checks by area and time of day", "hour"),
    TableSpec("mental_health", "Checks by area: mental-health related or not", "all"),
    TableSpec("month", "Checks by area and month", "all"),
)


@dataclass
class PublishedTable:
    name: str
    title: str
    row_label: str
    rows: list[str]
    columns: list[str]
    values: list[list[int | None]]  # cells; None = suppressed
    row_totals: list[int | None]
    column_totals: list[int | None]
    grand_total: int | None
    mentions: bool
    suppressed: int
    noise_scale: float | None = None
    epsilon: float | None = None


@dataclass
class Report:
    agency_name: str
    agency_slug: str
    period: Period
    threshold: int
    generated_at: dt.datetime
    tables: list[PublishedTable] = field(default_factory=list)
    epsilon_per_table: float | None = None

    @property
    def epsilon_total(self) -> float | None:
        if self.epsilon_per_table is None:
            return None
        return round(sum(t.epsilon or 0 for t in self.tables), 6)


def available_periods(agency: Agency) -> list[str]:
    months = sorted(
        set(
            RollupCell.objects.filter(
                agency=agency, grain=Grain.MONTH, dim="all", area_id=WHOLE_AGENCY
            ).values_list("period", flat=True)
        ),
        reverse=True,
    )
    quarters = sorted({f"{m.year}-Q{(m.month - 1) // 3 + 1}" for m in months}, reverse=True)
    return [m.strftime("%Y-%m") for m in months] + quarters


def gather(*, agency: Agency, period: Period) -> tuple[list[str], list[Counted]]:
    """The true counts of every table (never published as they are)."""
    if rollups_pending(agency_id=agency.pk):
        rollups_refresh(agency_id=agency.pk)
    areas = list(
        Unit.objects.filter(agency=agency, parent__isnull=True)
        .order_by("code")
        .values_list("id", "code", "name")
    )
    area_ids = [a[0] for a in areas]
    row_labels = [f"{code} {name}".strip() for _, code, name in areas] or ["(no areas)"]
    codes = _code_labels()
    counted: list[Counted] = []
    for spec in SPECS:
        if spec.name == "month" and period.kind != "quarter":
            continue
        cols, grid = _counts(spec, agency, area_ids, period, codes)
        counted.append((spec, cols, grid if area_ids else [[0] * len(cols)]))
    return row_labels, counted


def build_report(
    *,
    agency: Agency,
    period: Period,
    threshold: int = DEFAULT_THRESHOLD,
    epsilon: float | None = None,
    gathered: tuple[list[str], list[Counted]] | None = None,
) -> Report:
    """All tables of the period, noised (if ``epsilon``) and protected."""
    if epsilon is not None and not epsilon > 0:
        raise ValueError("Epsilon must be a positive number.")
    row_labels, raw = gathered or gather(agency=agency, period=period)
    counted: list[tuple[TableSpec, list[str], list[list[int]] | Noised]] = [
        (s, cols, _noised(s, cols, grid, epsilon) if epsilon else grid) for s, cols, grid in raw
    ]
    # Tables of checks (not mentions) share their area totals and grand total: a total hidden in
    # one must be hidden in all, or the others give it away. Iterate until no new total is hidden.
    shared: set[int] = set()
    tables: list[PublishedTable] = []
    for _ in range(len(row_labels) + 2):
        tables = [_publish(s, row_labels, c, g, threshold, shared) for s, c, g in counted]
        hidden_totals = {
            i
            for t, (s, _, _) in zip(tables, counted, strict=True)
            if not s.mentions
            for i, v in enumerate([*t.row_totals, t.grand_total])
            if v is None
        }
        if hidden_totals <= shared:
            break
        shared |= hidden_totals
    report = Report(
        agency.name, agency.slug, period, threshold, timezone.now(), epsilon_per_table=epsilon
    )
    report.tables = tables
    return report


def published_report(
    *, agency: Agency, period: Period, threshold: int = DEFAULT_THRESHOLD, epsilon: float | None
) -> dict[str, Any]:
    """The report as published (JSON form). With noise, one release per set of true counts."""
    if epsilon is None:
        return report_dict(build_report(agency=agency, period=period, threshold=threshold))
    gathered = gather(agency=agency, period=period)
    blob = json.dumps(
        [gathered[0], [(s.name, cols, grid) for s, cols, grid in gathered[1]]], sort_keys=True
    )
    digest = hashlib.sha256(blob.encode()).hexdigest()
    key = {"agency": agency, "period": period.label, "threshold": threshold, "epsilon": epsilon}
    found = Release.objects.filter(**key, counts_digest=digest).first()
    if found is not None:
        return found.payload
    payload = report_dict(
        build_report(
            agency=agency, period=period, threshold=threshold, epsilon=epsilon, gathered=gathered
        )
    )
    with transaction.atomic():
        release, _ = Release.objects.get_or_create(
            **key, counts_digest=digest, defaults={"payload": payload}
        )
    return release.payload


def _code_labels() -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    rows = Code.objects.filter(agency__isnull=True).order_by("sort_order", "label")
    for category, code, label in rows.values_list("category", "code", "label"):
        out.setdefault(category, []).append((code, label))
    return out


def _counts(
    spec: TableSpec,
    agency: Agency,
    area_ids: list[int],
    period: Period,
    codes: dict[str, list[tuple[str, str]]],
) -> tuple[list[str], list[list[int]]]:
    qs = RollupCell.objects.filter(
        agency=agency,
        grain=Grain.MONTH,
        dim=spec.dim,
        area_id__in=area_ids,
        period__in=period.months,
    )
    sums: dict[tuple[int, str], int] = {}
    if spec.name == "month":
        rows = qs.values("area_id", "period").annotate(n=Sum("n"))
        keys = [m.strftime("%Y-%m") for m in period.months]
        for r in rows:
            sums[(r["area_id"], r["period"].strftime("%Y-%m"))] = r["n"]
        columns = keys
    elif spec.name == "mental_health":
        rows = qs.values("area_id").annotate(n=Sum("n"), mh=Sum("mh_n"))
        keys, columns = ["yes", "no"], ["Mental-health related", "Not mental-health related"]
        for r in rows:
            sums[(r["area_id"], "yes")] = r["mh"]
            sums[(r["area_id"], "no")] = r["n"] - r["mh"]
    elif spec.name == "time_of_day":
        keys, columns = [str(b) for b in range(6)], list(BLOCKS)
        for r in qs.values("area_id", "key").annotate(n=Sum("n")):
            block = str(int(r["key"]) // 4)
            sums[(r["area_id"], block)] = sums.get((r["area_id"], block), 0) + r["n"]
    else:
        found = {
            (r["area_id"], r["key"]): r["n"]
            for r in qs.values("area_id", "key").annotate(n=Sum("n"))
        }
        sums.update(found)
        listed = codes.get(spec.category, [])
        keys = [c for c, _ in listed]
        columns = [label for _, label in listed]
        extra = sorted({k for _, k in found if k not in keys})
        keys += extra
        columns += ["Not recorded" if k == "none" else k for k in extra]
    grid = [[sums.get((a, k), 0) for k in keys] for a in area_ids]
    return columns, grid


@dataclass
class Noised:
    grid: list[list[int]]
    scale: float
    spent: float


def _noised(spec: TableSpec, columns: list[str], grid: list[list[int]], epsilon: float) -> Noised:
    """OpenDP discrete Laplace on each cell; margins are then sums of noisy cells (post-processing,
    so a table costs its epsilon once). A check adds 1 to one cell of a table of checks, and to
    up to one cell per column of a mentions table: that is the sensitivity."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    sensitivity = len(columns) if spec.mentions else 1
    scale = sensitivity / epsilon
    meas = dp.m.make_laplace(dp.atom_domain(T=int), dp.absolute_distance(T=int), scale=scale)
    spent = float(meas.map(sensitivity))
    noisy = [[max(0, int(meas(v))) for v in row] for row in grid]
    return Noised(noisy, scale, spent)


def _publish(
    spec: TableSpec,
    row_labels: list[str],
    columns: list[str],
    counts: list[list[int]] | Noised,
    threshold: int,
    shared_hidden: set[int],
) -> PublishedTable:
    """Protect one table. ``shared_hidden``: area-total rows (index len(rows) = grand total)
    hidden in some linked table, so hidden here too."""
    scale = spent = None
    if isinstance(counts, Noised):
        grid, scale, spent = counts.grid, counts.scale, counts.spent
    else:
        grid = counts
    c = len(columns)
    also = set() if spec.mentions else {(i, c) for i in shared_hidden}
    t = protect(grid, threshold=threshold, also_hide=also)
    r, c = t.shape
    return PublishedTable(
        name=spec.name,
        title=spec.title,
        row_label="Area",
        rows=row_labels,
        columns=columns,
        values=[[t.published(i, j) for j in range(c)] for i in range(r)],
        row_totals=[t.published(i, c) for i in range(r)],
        column_totals=[t.published(r, j) for j in range(c)],
        grand_total=t.published(r, c),
        mentions=spec.mentions,
        suppressed=len(t.hidden),
        noise_scale=scale,
        epsilon=spent,
    )


def report_dict(report: Report) -> dict[str, Any]:
    """The JSON form (also the source of the CSV)."""
    return {
        "agency": report.agency_name,
        "agency_slug": report.agency_slug,
        "period": report.period.label,
        "period_kind": report.period.kind,
        "months": [m.strftime("%Y-%m") for m in report.period.months],
        "generated_at": report.generated_at.isoformat(),
        "suppression_threshold": report.threshold,
        "suppressed_value": None,
        "differential_privacy": None
        if report.epsilon_per_table is None
        else {
            "mechanism": "discrete Laplace (OpenDP make_laplace on integers)",
            "epsilon_per_table": report.epsilon_per_table,
            "epsilon_total": report.epsilon_total,
            "composition": "sequential: the tables' epsilons add up",
        },
        "tables": [
            {
                "name": t.name,
                "title": t.title,
                "counts_mentions": t.mentions,
                "columns": t.columns,
                "rows": [
                    {"area": label, "values": vals, "total": total}
                    for label, vals, total in zip(t.rows, t.values, t.row_totals, strict=True)
                ],
                "column_totals": t.column_totals,
                "grand_total": t.grand_total,
                "suppressed_entries": t.suppressed,
                "epsilon": t.epsilon,
                "noise_scale": t.noise_scale,
            }
            for t in report.tables
        ],
    }


def rows_from_dict(report: dict[str, Any]) -> list[list[Any]]:
    """Long form for the CSV: one row per published entry; suppressed entries empty."""
    out: list[list[Any]] = [["period", "table", "area", "category", "count", "status"]]
    period = report["period"]
    for t in report["tables"]:
        columns = [*t["columns"], "Total"]
        for row in t["rows"]:
            for col, v in zip(columns, [*row["values"], row["total"]], strict=True):
                out.append([period, t["name"], row["area"], col, _v(v), _status(v)])
        for col, v in zip(columns, [*t["column_totals"], t["grand_total"]], strict=True):
            out.append([period, t["name"], "All areas", col, _v(v), _status(v)])
    return out


def _v(v: int | None) -> Any:
    return "" if v is None else v


def _status(v: int | None) -> str:
    return "suppressed" if v is None else "published"
