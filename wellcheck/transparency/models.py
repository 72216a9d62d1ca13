"""Releases of noised reports.

With differential privacy on, the noise of a period's report must be drawn once and kept: were it
drawn on every page view, averaging many views would remove it (and spend the budget again each
time). A ``Release`` stores the published (already protected) JSON of one report for one set of
underlying counts; new counts make a new release, which spends the stated budget again.
Holds only what is public anyway.
"""

from __future__ import annotations

from django.db import models


class Release(models.Model):
    """One published, noised report: public numbers only, after suppression."""

    agency = models.ForeignKey("accounts.Agency", on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=8)
    threshold = models.PositiveIntegerField()
    epsilon = models.FloatField()
    counts_digest = models.CharField(max_length=64)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "period", "threshold", "epsilon", "counts_digest"],
                name="release_unique",
            )
        ]

    def __str__(self) -> str:
        return f"Release {self.period} (epsilon {self.epsilon})"
