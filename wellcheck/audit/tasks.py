"""Background jobs of the audit trail (django-tasks; run by ``manage.py db_worker``).

``audit_checkpoint_task`` is queued every ``WELLCHECK_AUDIT_CHECKPOINT_EVERY`` events; schedule
``wellcheck audit checkpoint --export <file>`` from a timer for the time-based checkpoints and the
off-host copy. ``unusual_access_daily`` runs the unusual-access rules over the last 24 hours for
every agency; enqueue it once a day (timer or cron: ``wellcheck audit unusual --days 1`` does the
same from the command line).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

from wellcheck.audit.checkpoints import checkpoint_create


@task()
def audit_checkpoint_task() -> int:
    """Sign a checkpoint at the tail; returns its tree size (0 when nothing was new)."""
    point = checkpoint_create()
    return point.tree_size if point is not None else 0


@task()
def unusual_access_daily() -> list[int]:
    """Run the unusual-access rules over the past day for every agency; returns report ids."""
    from wellcheck.audit.unusual import run_for_all_agencies

    end = timezone.now()
    reports = run_for_all_agencies(start=end - dt.timedelta(days=1), end=end)
    return [report.pk for report in reports]
