"""Reads for the check API, all through the door (``WellnessCheck.objects.restrict``)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from wellcheck.accounts.permissions import Action
from wellcheck.audit.events import EventType
from wellcheck.audit.services import audit_record
from wellcheck.checks.models import CheckDetail, CheckReview, RecordMode, WellnessCheck


def checks_for(actor: Any, action: Action) -> QuerySet[WellnessCheck]:
    """The checks ``actor`` may touch for ``action``, with what the output needs preloaded."""
    return (
        WellnessCheck.objects.restrict(actor, action)
        .select_related("unit", "initiator", "triage", "outcome", "outcome_review")
        .prefetch_related(
            "reasons",
            "observed",
            "referrals",
            Prefetch("reviews", queryset=CheckReview.objects.select_related("reviewer")),
        )
    )


def identity_for(
    actor: Any, check: WellnessCheck, *, audit: bool, reason: str = ""
) -> CheckDetail | None:
    """The identifying part of ``check`` if the actor holds CHECK_VIEW_IDENTITY over it, else None.

    With ``audit=True`` every identifying read writes a ``CHECK_VIEWED`` event (a consultation,
    UK DPA 2018 s.62). A tally has no identifying part and writes no event.
    """
    if check.record_mode != RecordMode.IDENTIFIED:
        return None
    allowed = (
        WellnessCheck.objects.restrict(actor, Action.CHECK_VIEW_IDENTITY)
        .filter(pk=check.pk)
        .exists()
    )
    if not allowed:
        return None
    detail = (
        CheckDetail.objects.filter(check_record_id=check.pk)
        .select_related("person")
        .prefetch_related("responders", "person__consents")
        .first()
    )
    if detail is not None and audit:
        audit_record(
            actor=actor, event_type=EventType.CHECK_VIEWED, target=check, component="api",
            reason=reason,  # the stated reason for the look (accounts/looks.py)
        )
    return detail
