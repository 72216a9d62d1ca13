"""Daily jobs of the audit app (run by ``wellcheck scheduler`` / ``wellcheck run-daily``)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from wellcheck.core.schedule import daily


@daily("audit-unusual-access")
def unusual_access() -> str:
    """Yesterday's unusual-access reports for every agency (the rules are in audit/unusual.py)."""
    from wellcheck.audit.unusual import run_for_all_agencies

    end = timezone.now()
    reports = run_for_all_agencies(start=end - dt.timedelta(days=1), end=end)
    return f"{len(reports)} unusual-access report(s)"


@daily("audit-checkpoint")
def checkpoint() -> str:
    """A signed checkpoint of the chain at least once a day (the command can add more)."""
    from wellcheck.audit import checkpoints

    made = checkpoints.checkpoint_create()
    return f"checkpoint at tree size {made.tree_size}" if made else "no new events"
