"""`wellcheck publish --period 2023-01 --out DIR`: the public report as static files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wellcheck.accounts.models import Agency
from wellcheck.transparency.publish import publish_static
from wellcheck.transparency.report import parse_period
from wellcheck.transparency.views import disclosure_settings


class Command(BaseCommand):
    help = "Write a month's or quarter's public report (HTML, CSV, JSON, data dictionary)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", required=True, help="YYYY-MM or YYYY-Qn")
        parser.add_argument("--out", required=True, help="Folder to write (created if missing)")
        parser.add_argument(
            "--agency", default="", help="Agency slug (needed if there are several)"
        )
        parser.add_argument("--threshold", type=int, default=None, help="Smallest published count")
        parser.add_argument(
            "--epsilon",
            type=float,
            default=None,
            help="Add differential-privacy noise with this epsilon per table (off by default)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            period = parse_period(options["period"])
        except ValueError as exc:
            raise CommandError(f"--period: {exc}") from None
        agencies = Agency.objects.all()
        if options["agency"]:
            agencies = agencies.filter(slug=options["agency"])
        found = list(agencies[:2])
        if not found:
            raise CommandError(f"--agency: no agency with slug {options['agency']!r}.")
        if len(found) > 1:
            slugs = ", ".join(Agency.objects.values_list("slug", flat=True))
            raise CommandError(f"--agency: several agencies; choose one of {slugs}.")
        threshold, epsilon = disclosure_settings()
        if options["threshold"] is not None:
            if options["threshold"] < 1:
                raise CommandError("--threshold: must be at least 1.")
            threshold = options["threshold"]
        if options["epsilon"] is not None:
            if options["epsilon"] <= 0:
                raise CommandError("--epsilon: must be a positive number.")
            epsilon = options["epsilon"]
        files = publish_static(
            agency=found[0],
            period=period,
            out=Path(options["out"]),
            threshold=threshold,
            epsilon=epsilon,
        )
        self.stdout.write(f"Wrote {len(files)} files to {options['out']} for {period.label}.")
