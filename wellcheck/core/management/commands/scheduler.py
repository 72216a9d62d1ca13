"""``wellcheck scheduler``: run the daily jobs when due, checking every few minutes."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from wellcheck.core.schedule import run_due_jobs


class Command(BaseCommand):
    help = "Loop: run due daily jobs, then sleep."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=int, default=300, help="Seconds between looks.")

    def handle(self, *args: Any, **opts: Any) -> None:
        while True:
            close_old_connections()
            for name, outcome in run_due_jobs().items():
                self.stdout.write(f"{name}: {outcome}")
            time.sleep(opts["interval"])
