"""``wellcheck import-calls --profile NAME FILE``: import a dispatch (CAD) calls-for-service export.

Exit status 0 for a finished import (even with rejected rows: they are in the reject file), 2 for
a refused one (nothing written), 1 for an unexpected failure (the import resumes when run again).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from wellcheck.accounts.models import Agency, User
from wellcheck.accounts.permissions import Action, can
from wellcheck.intake.engine import ImportResult, run_import
from wellcheck.intake.profiles import Profile, ProfileError, load_profile

REFUSED = 2


class Command(BaseCommand):
    help = "Import dispatch (CAD) calls for service from a CSV export, using a declarative profile."
    # Django's system checks load every URL configuration and view (about 0.7 s here) and check
    # nothing this batch command uses; `manage.py check` and the server run them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the CSV export")
        parser.add_argument("--profile", help="a built-in profile: san_diego, milwaukee, berkeley")
        parser.add_argument("--profile-file", help="an agency's own profile (TOML)")
        parser.add_argument("--agency", help="agency slug (default: the profile's)")
        parser.add_argument(
            "--create-agency",
            action="store_true",
            help="create the profile's agency if it does not exist (full record policy)",
        )
        parser.add_argument("--user", help="username of the records officer doing the import")
        parser.add_argument("--reject-file", help="where rejected rows go (line, reason, row)")
        parser.add_argument("--batch-size", type=int, default=50_000)
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            profile = load_profile(opts["profile"], path=opts["profile_file"])
        except ProfileError as exc:
            self._refuse(str(exc))
        agency = self._agency(profile, opts)
        actor = self._actor(agency, opts["user"])
        path = Path(opts["file"])
        reject = Path(opts["reject_file"]) if opts["reject_file"] else self._default_reject(path)
        quiet = opts["json"] or not sys.stderr.isatty()
        if opts["batch_size"] < 1:
            self._refuse("--batch-size must be at least 1.")
        result = self._run(agency, profile, path, actor, reject, opts["batch_size"], quiet)
        if result.refused:
            self._refuse(result.message)
        if opts["json"]:
            self.stdout.write(json.dumps(result.json_summary(), sort_keys=True))
        else:
            self._print_summary(result)

    def _refuse(self, message: str) -> None:
        raise CommandError(f"Refused, nothing imported: {message}", returncode=REFUSED)

    def _agency(self, profile: Profile, opts: dict[str, Any]) -> Agency:
        slug = opts["agency"] or profile.agency_slug
        agency = Agency.objects.filter(slug=slug).first()
        if agency is None and opts["create_agency"]:
            agency = Agency.objects.create(
                slug=slug, name=profile.agency_name, time_zone=profile.time_zone
            )
        if agency is None:
            self._refuse(
                f"there is no agency {slug!r}. Pass --agency SLUG, or --create-agency to create it."
            )
        return agency  # type: ignore[return-value]

    def _actor(self, agency: Agency, username: str | None) -> User | None:
        if not username:
            return None
        user = User.objects.filter(username=username, agency=agency).first()
        if user is None or not can(user, Action.CALLS_IMPORT):
            self._refuse(f"{username!r} is not a user of {agency.slug} allowed to import calls.")
        return user

    def _default_reject(self, path: Path) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return Path(settings.DATA_DIR) / "imports" / "rejects" / f"{path.stem}-{stamp}.rejects.csv"

    def _run(
        self,
        agency: Agency,
        profile: Profile,
        path: Path,
        actor: User | None,
        reject: Path,
        batch_size: int,
        quiet: bool,
    ) -> ImportResult:
        if quiet:
            return run_import(
                agency=agency,
                profile=profile,
                path=path,
                actor=actor,
                reject_path=reject,
                batch_size=batch_size,
            )
        console = Console(stderr=True)
        started = time.monotonic()
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rows]:,} rows"),
            TextColumn("{task.fields[rate]:,.0f} rows/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("left"),
        )
        with Progress(*columns, console=console) as bar:
            size = path.stat().st_size if path.is_file() else 1
            task = bar.add_task(path.name, total=size or 1, rows=0, rate=0.0)
            first: list[int] = []

            def progress(rows: int, done: int, total: int) -> None:
                if not first:
                    first.append(rows)
                elapsed = max(time.monotonic() - started, 1e-6)
                bar.update(
                    task,
                    completed=done,
                    total=total,
                    rows=rows,
                    rate=(rows - first[0]) / elapsed if rows > first[0] else rows / elapsed,
                )

            return run_import(
                agency=agency,
                profile=profile,
                path=path,
                actor=actor,
                reject_path=reject,
                batch_size=batch_size,
                progress=progress,
            )

    def _print_summary(self, result: ImportResult) -> None:
        s = result.summary
        console = Console(file=self.stdout._out, highlight=False)  # type: ignore[attr-defined]
        table = Table(title="Import finished", show_header=False)
        table.add_column("what")
        table.add_column("rows", justify="right")
        for label, value in (
            ("rows read", s["rows_read"]),
            ("checks created", s["checks_created"]),
            ("  welfare checks", s["created_by_category"].get("welfare_check", 0)),
            ("  mental-health related", s["created_by_category"].get("mental_health", 0)),
            ("checks updated", s["checks_updated"]),
            ("checks unchanged", s["checks_unchanged"]),
            ("other calls counted", s["other_calls_counted"]),
            ("rows repaired with a warning", s["rows_warned"]),
            ("rows rejected", s["rows_rejected"]),
        ):
            table.add_row(label, f"{value:,}")
        console.print(table)
        for reason, count in sorted(s.get("warnings", {}).items()):
            console.print(f"warning: {count:,} row(s): {reason}")
        for note in result.notes:
            console.print(f"note: {note}")
        if result.reject_path:
            console.print(f"rejected rows (line, reason): {result.reject_path}")
