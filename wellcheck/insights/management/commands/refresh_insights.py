"""`wellcheck refresh-insights [--agency SLUG] [--all]`: bring the rollup cube up to date.

Without ``--all`` it rebuilds the months marked dirty (what a dashboard read does first); with
``--all`` it rebuilds every month that has checks (first build, after a restore or an upgrade
that adds a dimension).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wellcheck.accounts.models import Agency
from wellcheck.insights.rollups import rollups_rebuild_all, rollups_refresh


class Command(BaseCommand):
    help = "Rebuild dirty (or, with --all, every) month of the analytics rollups."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--agency", default="", help="Agency slug (default: every agency)")
        parser.add_argument("--all", action="store_true", help="Rebuild every month")

    def handle(self, *args: Any, **options: Any) -> None:
        agencies = Agency.objects.order_by("slug")
        if options["agency"]:
            agencies = agencies.filter(slug=options["agency"])
            if not agencies.exists():
                raise CommandError(f"--agency: no agency with slug {options['agency']!r}.")
        for agency in agencies:
            t0 = time.perf_counter()
            if options["all"]:
                months = rollups_rebuild_all(agency_id=agency.pk)
            else:
                months = rollups_refresh(agency_id=agency.pk)
            took = time.perf_counter() - t0
            self.stdout.write(f"{agency.slug}: {months} month(s) rebuilt in {took:.1f} s")
