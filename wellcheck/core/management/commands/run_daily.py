"""``wellcheck run-daily``: run the daily jobs that have not run today (for cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from wellcheck.core.schedule import run_due_jobs


class Command(BaseCommand):
    help = "Run each registered daily job once per day."

    def handle(self, *args: Any, **opts: Any) -> None:
        results = run_due_jobs()
        for name, outcome in results.items():
            self.stdout.write(f"{name}: {outcome}")
        if not results:
            self.stdout.write("nothing due")
