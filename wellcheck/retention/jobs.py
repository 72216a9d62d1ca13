"""Daily job of the retention app: create the review tasks that have fallen due.

Registered with the scheduler (``@daily``) and available as a django-tasks task
(``retention_review_task.enqueue()``, run by ``manage.py db_worker``).
"""

from __future__ import annotations

from django_tasks import task

from wellcheck.core.schedule import daily
from wellcheck.retention.reviews import retention_review_sweep


@task()
def retention_review_task() -> int:
    return retention_review_sweep()


@daily("retention-review")
def retention_review() -> str:
    return f"{retention_review_sweep()} retention review(s) created"
