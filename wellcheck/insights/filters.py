"""The dashboard's filters and the areas an actor may look at.

Periods are whole local months (``YYYY-MM``): the cube's finest grain for categories is the month,
and analysts and the public reports both think in months and quarters. Area 0 is the whole
agency (agency-scope actors only); a unit-scope actor (a supervisor) sees their unit and the
units below it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Max
from django.utils import timezone

from wellcheck.accounts.models import Agency, Unit, User
from wellcheck.accounts.permissions import Action, Scope, scope_for
from wellcheck.checks.models import Code
from wellcheck.checks.taxonomy import CodeCategory
from wellcheck.core.errors import ServiceError
from wellcheck.insights.models import WHOLE_AGENCY, AgencyId, Grain, RollupCell

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Filters:
    first: dt.date  # first day of the first month
    last: dt.date  # first day of the last month
    area_id: int = WHOLE_AGENCY
    reason: str = ""
    outcome: str = ""

    @property
    def crosses(self) -> bool:
        """True when a filter crosses dimensions the cube does not (computed on the fly)."""
        return bool(self.reason or self.outcome)

    @property
    def last_day(self) -> dt.date:
        nxt = add_months(self.last, 1)
        return nxt - dt.timedelta(days=1)

    def as_query(self) -> dict[str, str]:
        q = {"from": self.first.strftime("%Y-%m"), "to": self.last.strftime("%Y-%m")}
        q["area"] = str(self.area_id)
        if self.reason:
            q["reason"] = self.reason
        if self.outcome:
            q["outcome"] = self.outcome
        return q


def add_months(month: dt.date, k: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + k
    return dt.date(index // 12, index % 12 + 1, 1)


def parse_month(value: str, *, field: str) -> dt.date:
    m = MONTH_RE.match(value.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ServiceError(f"Give the month as YYYY-MM (got {value[:20]!r}).", field=field)
    return dt.date(int(m.group(1)), int(m.group(2)), 1)


class AreaScope:
    """The areas an actor may ask for, with their labels and children."""

    def __init__(self, actor: User) -> None:
        self.actor = actor
        scope = scope_for(actor, Action.AGGREGATE_VIEW)
        self.agency_wide = scope is not None and scope >= Scope.AGENCY
        self.units = list(
            Unit.objects.filter(agency_id=actor.agency_id).values(
                "id", "code", "name", "kind", "parent_id"
            )
        )
        self.by_id = {u["id"]: u for u in self.units}
        allowed = set(self.by_id) if self.agency_wide else set(actor.scope_unit_ids())
        if self.agency_wide:
            allowed.add(WHOLE_AGENCY)
        self.allowed: set[int] = allowed
        agency = Agency.objects.filter(pk=actor.agency_id).values_list("name", flat=True).first()
        self.agency_name = agency or "Agency"

    @property
    def default(self) -> int:
        if self.agency_wide:
            return WHOLE_AGENCY
        return self.actor.unit_id or WHOLE_AGENCY

    def label(self, area_id: int) -> str:
        if area_id == WHOLE_AGENCY:
            return self.agency_name
        u = self.by_id.get(area_id)
        return f"{u['code']} {u['name']}".strip() if u else str(area_id)

    def children(self, area_id: int) -> list[int]:
        """The units directly below an area (top-level units for the agency), else the area."""
        parent = None if area_id == WHOLE_AGENCY else area_id
        kids = [u["id"] for u in self.units if u["parent_id"] == parent and u["id"] in self.allowed]
        return sorted(kids, key=lambda i: self.by_id[i]["code"]) or [area_id]

    def beats(self, area_id: int) -> list[int]:
        """Units with nothing below them, under (or equal to) an area."""
        parents = {u["parent_id"] for u in self.units}
        out = []
        for u in self.units:
            if u["id"] in parents or u["id"] not in self.allowed:
                continue
            cur, chain = u["id"], set()
            while cur is not None and cur not in chain:
                chain.add(cur)
                cur = self.by_id.get(cur, {}).get("parent_id")
            if area_id == WHOLE_AGENCY or area_id in chain:
                out.append(u["id"])
        return sorted(out, key=lambda i: self.by_id[i]["code"])

    def options(self) -> list[tuple[int, str]]:
        opts = [(WHOLE_AGENCY, self.agency_name)] if self.agency_wide else []
        ordered = sorted(
            (u for u in self.units if u["id"] in self.allowed),
            key=lambda u: (u["kind"] != "district", u["code"]),
        )
        return opts + [(u["id"], self.label(u["id"])) for u in ordered]


def code_labels(agency_id: AgencyId) -> dict[tuple[str, str], str]:
    rows = Code.objects.filter(agency__isnull=True).values_list("category", "code", "label")
    labels = {(c, k): label for c, k, label in rows}
    rows = Code.objects.filter(agency_id=agency_id).values_list("category", "code", "label")
    labels.update({(c, k): label for c, k, label in rows})
    return labels


def parse_filters(actor: User, params: Mapping[str, str], areas: AreaScope) -> Filters:
    """Validate the query string; a bad value raises ServiceError naming the field."""
    latest = (
        RollupCell.objects.restrict(actor, Action.AGGREGATE_VIEW)
        .filter(grain=Grain.MONTH, dim="all")
        .aggregate(m=Max("period"))["m"]
    )
    last = parse_month(params["to"], field="to") if params.get("to") else latest
    last = last or timezone.localdate().replace(day=1)
    if params.get("from"):
        first = parse_month(params["from"], field="from")
    else:
        first = add_months(last, -11)
    if first > last:
        raise ServiceError("The first month is after the last month.", field="from")
    if (last.year - first.year) * 12 + last.month - first.month > 120:
        raise ServiceError("Choose at most ten years.", field="from")
    raw_area = params.get("area", "")
    try:
        area = int(raw_area) if raw_area != "" else areas.default
    except ValueError:
        raise ServiceError("Choose an area from the list.", field="area") from None
    if area not in areas.allowed:
        raise ServiceError("Choose an area from the list.", field="area")
    labels = code_labels(actor.agency_id)
    reason = params.get("reason", "").strip()
    if reason and (CodeCategory.REASON, reason) not in labels:
        raise ServiceError("Choose a reason from the list.", field="reason")
    outcome = params.get("outcome", "").strip()
    if outcome and (CodeCategory.OUTCOME, outcome) not in labels:
        raise ServiceError("Choose an outcome from the list.", field="outcome")
    return Filters(first=first, last=last, area_id=area, reason=reason, outcome=outcome)
