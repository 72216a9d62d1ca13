"""``wellcheck seed-demo``: the demo agency, units, one login per role, and checks from real San
Diego dispatch data (see wellcheck/demo/data/PROVENANCE.md). Running it again changes nothing."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError

from wellcheck.demo.services import demo_seed


class Command(BaseCommand):
    help = "Create the demo agency, units, logins and checks (idempotent); print the logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet", action="store_true", help="Do not print the logins.")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            summary = demo_seed()
        except IntegrityError as exc:
            raise CommandError(
                "Could not create the demo: a user with a demo username (officer, supervisor, ...) "
                "already exists outside the demo agency. Nothing was written."
            ) from exc
        if opts["quiet"]:
            return
        what = "Created" if summary.created else "Already present (nothing changed):"
        states = ", ".join(f"{n} {s}" for s, n in sorted(summary.states.items()))
        self.stdout.write(
            f"{what} {summary.agency.name}: {summary.checks} checks ({states}), "
            f"{summary.persons} made-up persons."
        )
        self.stdout.write("Demo logins (username / role / password):")
        for username, role, password in summary.logins:
            self.stdout.write(f"  {username:<11} {role:<11} {password}")
