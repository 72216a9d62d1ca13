"""Pre-aggregated counts of checks (the rollup cube) and the dirty-day queue that keeps it current.

``RollupCell`` rows are de-identified aggregates only: an area (a unit at any level, or the whole
agency), a period (a local day or a month), a dimension and a key, and counts. There is no column
for a person, an address or a check id. See docs/adr/0008-analytics-rollups.md.

``DirtyDay`` is written by the check services in the same transaction as the change, so a
committed change always leaves a mark; ``rollups_refresh`` rebuilds the marked months before a
dashboard reads.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q

from wellcheck.accounts.permissions import Scope
from wellcheck.core.querysets import RestrictedQuerySet

if TYPE_CHECKING:
    from wellcheck.accounts.models import User

WHOLE_AGENCY = 0  # area_id of the agency-wide rows
AgencyId = uuid.UUID | str


class Grain(models.TextChoices):
    DAY = "day", "Local day"
    MONTH = "month", "Local month"
    YEAR = "year", "Local calendar year (sum of its months)"


class RollupCellQuerySet(RestrictedQuerySet["RollupCell"]):
    pass


class RollupCell(models.Model):
    """One aggregate: how many checks of ``agency`` in ``area`` during ``period`` have ``key``
    on ``dim``, with the sums that give mean response and on-scene times.

    Guarantees: counts only; rebuilt whole per (agency, month), so a month's rows are always from
    one consistent read of the base table.
    """

    agency = models.ForeignKey("accounts.Agency", on_delete=models.CASCADE, related_name="+")
    area_id = models.BigIntegerField(help_text="Unit id at any level, or 0 for the whole agency.")
    grain = models.CharField(max_length=5, choices=Grain.choices)
    period = models.DateField(help_text="The local day, or the first day of the month or year.")
    dim = models.CharField(max_length=16)
    key = models.CharField(max_length=40, blank=True)
    n = models.IntegerField(default=0)
    mh_n = models.IntegerField(default=0)
    resp_sum = models.BigIntegerField(default=0)
    resp_n = models.IntegerField(default=0)
    scene_sum = models.BigIntegerField(default=0)
    scene_n = models.IntegerField(default=0)

    objects = RollupCellQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(
                fields=["agency", "dim", "grain", "area_id", "period"], name="rollup_lookup"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dim}={self.key} {self.period} area {self.area_id}: {self.n}"

    @classmethod
    def scope_filter(cls, actor: User, scope: Scope) -> Q:
        base = Q(agency_id=actor.agency_id)
        if scope >= Scope.AGENCY:
            return base
        return base & Q(area_id__in=actor.scope_unit_ids())


class DirtyDay(models.Model):
    """A local day of an agency whose checks changed since the rollups were last built."""

    agency = models.ForeignKey("accounts.Agency", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    marked_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "day"], name="dirty_day_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.day}"
