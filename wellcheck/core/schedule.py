"""Daily jobs: consent lapse, retention reviews, unusual-access reports.

Apps register a function with ``@daily("name")``; ``run_due_jobs()`` runs each registered job at
most once per agency-local day (claimed by inserting a ``ScheduledRun`` row, so two schedulers never
both run it). ``wellcheck scheduler`` loops over it; ``wellcheck run-daily`` runs it once (cron).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from wellcheck.core.models import ScheduledRun

log = logging.getLogger(__name__)
JOBS: dict[str, Callable[[], Any]] = {}


def daily(name: str) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    def register(func: Callable[[], Any]) -> Callable[[], Any]:
        JOBS[name] = func
        return func

    return register


def _claim(name: str, day: dt.date) -> ScheduledRun | None:
    try:
        with transaction.atomic():
            return ScheduledRun.objects.create(name=name, day=day)
    except IntegrityError:
        return None


def run_due_jobs(*, day: dt.date | None = None) -> dict[str, str]:
    """Run every registered job not yet run today. Returns what each job said (or why it failed)."""
    _load_job_modules()
    day = day or timezone.localdate()
    results: dict[str, str] = {}
    for name, func in sorted(JOBS.items()):
        run = _claim(name, day)
        if run is None:
            continue
        try:
            outcome = str(func())
        except Exception as exc:  # a failed job must not stop the others; the row says it failed
            log.exception("daily job %s failed", name)
            outcome = f"failed: {type(exc).__name__}"
        run.finished_at = timezone.now()
        run.result = outcome[:300]
        run.save(update_fields=["finished_at", "result"])
        results[name] = outcome
    return results


def _load_job_modules() -> None:
    """Import each installed app's ``jobs`` module so its ``@daily`` functions register."""
    from importlib import import_module
    from importlib.util import find_spec

    from django.apps import apps

    for config in apps.get_app_configs():
        module = f"{config.name}.jobs"
        if config.name.startswith("wellcheck.") and find_spec(module) is not None:
            import_module(module)
