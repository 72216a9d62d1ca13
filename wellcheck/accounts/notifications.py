"""Notifications to users (emergency accesses to review). Shown on the notifications page."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from wellcheck.accounts.models_access import Notification


def unread_count(user: Any) -> int:
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()


def notifications_for(user: Any, *, limit: int = 100) -> list[Notification]:
    return list(Notification.objects.filter(recipient_id=user.pk)[:limit])


@transaction.atomic
def notifications_mark_read(*, actor: Any) -> int:
    """Mark every unread notification of the actor read. Only their own."""
    return Notification.objects.filter(recipient_id=actor.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )
