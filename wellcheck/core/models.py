"""Cross-cutting state: which daily job ran on which day (so each runs once per day)."""

from __future__ import annotations

from django.db import models


class ScheduledRun(models.Model):
    """One run of a daily job. The unique (name, day) pair makes a second start that day a no-op,
    even with several schedulers running against one database."""

    name = models.CharField(max_length=100)
    day = models.DateField()
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "day"], name="scheduled_run_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.day}"
