"""Break the glass: time-limited emergency access to one check outside the actor's scope.

An officer or supervisor who needs a record of their agency that their scope does not cover
states a reason; the access lasts ``WELLCHECK_BREAK_GLASS_MINUTES`` (60 by default), is flagged
in the audit trail (``break_glass.opened``), notifies the supervisors over the actor's unit and
every records and privacy officer of the agency, and waits in the privacy officer's review queue.

While it lasts, the door (``restrict()``) ORs the check into the actor's read scopes
(:data:`BREAK_GLASS_ACTIONS`) for the models registered in :data:`BREAK_GLASS_FILTERS`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from wellcheck.accounts.models import Unit, User
from wellcheck.accounts.models_access import (
    BreakGlassAccess,
    BreakGlassReason,
    Notification,
    NotificationKind,
)
from wellcheck.accounts.permissions import Action, Role, can
from wellcheck.audit.events import EventType
from wellcheck.audit.services import audit_record, audit_record_failure
from wellcheck.core.errors import ServiceError

BREAK_GLASS_ACTIONS = frozenset({Action.CHECK_VIEW, Action.CHECK_VIEW_IDENTITY, Action.PERSON_VIEW})
REVIEW_FINDINGS = {"justified": "Justified", "unjustified": "Not justified: referred"}


def _person_filter(check_ids: Any) -> Q:
    from wellcheck.checks.models import CheckDetail

    return Q(
        pk__in=CheckDetail.objects.filter(
            check_record_id__in=check_ids, person__isnull=False
        ).values("person_id")
    )


# Model label -> how the active check ids become a filter on that model.
BREAK_GLASS_FILTERS: dict[str, Callable[[Any], Q]] = {
    "checks.wellnesscheck": lambda ids: Q(pk__in=ids),
    "people.person": _person_filter,
}


def active_check_ids(actor: Any) -> list[uuid.UUID]:
    """The checks the actor holds an unexpired emergency access to."""
    return list(
        BreakGlassAccess.objects.filter(actor_id=actor.pk, expires_at__gt=timezone.now())
        .values_list("check_record_id", flat=True)
        .distinct()
    )


def break_glass_filter(model: type[models.Model], actor: Any, action: str) -> Q | None:
    """The extra filter ``restrict()`` ORs in, or None when no emergency access can apply.

    A subquery, not a separate query: the door costs no extra round trip for it.
    """
    if action not in BREAK_GLASS_ACTIONS or not can(actor, Action.BREAK_GLASS):
        return None
    make = BREAK_GLASS_FILTERS.get(model._meta.label_lower)
    if make is None:
        return None
    active = BreakGlassAccess.objects.filter(
        actor_id=actor.pk, expires_at__gt=timezone.now()
    ).values("check_record_id")
    return make(active)


def _agency_of(actor: User) -> uuid.UUID:
    if actor.agency_id is None:
        raise ServiceError("Your account belongs to no agency.")
    return actor.agency_id


def _recipients(actor: User) -> list[User]:
    """Supervisors of the actor's unit and the units above it; the agency's privacy officers."""
    unit_ids: list[int] = []
    unit_id = actor.unit_id
    while unit_id is not None and unit_id not in unit_ids:
        unit_ids.append(unit_id)
        unit_id = Unit.objects.filter(pk=unit_id).values_list("parent_id", flat=True).first()
    return list(
        User.objects.filter(agency_id=_agency_of(actor), is_active=True)
        .filter(Q(role=Role.SUPERVISOR, unit_id__in=unit_ids) | Q(role=Role.RECORDS))
        .exclude(pk=actor.pk)
    )


def break_glass_open(
    *, actor: User, check_id: uuid.UUID | str, reason_code: str, reason_text: str
) -> BreakGlassAccess:
    """Open emergency access to one check of the actor's agency. Refusals are audited too."""
    problem = _refusal(actor, reason_code, reason_text)
    check = None
    if problem is None:
        from wellcheck.checks.models import WellnessCheck

        # A deliberate read outside the door: the point is to reach a record outside one's scope.
        # Only the agency bounds it; the lookup itself is audited either way.
        check = WellnessCheck.objects.filter(pk=check_id, agency_id=_agency_of(actor)).first()
        if check is None:
            problem = ServiceError("No check with this id in your agency.", field="check_id")
    if problem is not None or check is None:
        audit_record_failure(
            actor=actor,
            event_type=EventType.BREAK_GLASS_OPENED,
            target_type="checks.wellnesscheck",
            target_id=str(check_id)[:64],
            reason=reason_text.strip(),
            details={"reason_code": reason_code},
        )
        raise problem or ServiceError("No check with this id in your agency.", field="check_id")
    return _open(actor=actor, check=check, reason_code=reason_code, reason_text=reason_text.strip())


def _refusal(actor: User, reason_code: str, reason_text: str) -> ServiceError | None:
    if not can(actor, Action.BREAK_GLASS):
        return ServiceError("Your role may not open records in an emergency.")
    if reason_code not in BreakGlassReason.values:
        return ServiceError("Choose the kind of emergency from the list.", field="reason_code")
    if len(reason_text.strip()) < 10:
        return ServiceError(
            "Describe the emergency in a sentence (at least 10 characters): it is reviewed.",
            field="reason_text",
        )
    return None


@transaction.atomic
def _open(*, actor: User, check: Any, reason_code: str, reason_text: str) -> BreakGlassAccess:
    now = timezone.now()
    access = BreakGlassAccess.objects.create(
        actor=actor,
        agency_id=_agency_of(actor),
        check_record=check,
        reason_code=reason_code,
        reason_text=reason_text,
        started_at=now,
        expires_at=now + dt.timedelta(minutes=settings.WELLCHECK_BREAK_GLASS_MINUTES),
    )
    recipients = _recipients(actor)
    label = BreakGlassReason(reason_code).label
    message = (
        f"Emergency access: {actor.username} opened check {str(check.pk)[:8]} "
        f"({label}) until {access.expires_at:%H:%M} UTC. Review it."
    )
    link = reverse("accounts:break_glass_review_queue")
    Notification.objects.bulk_create(
        [
            Notification(recipient=r, kind=NotificationKind.BREAK_GLASS, message=message, link=link)
            for r in recipients
        ]
    )
    audit_record(
        actor=actor,
        event_type=EventType.BREAK_GLASS_OPENED,
        target=check,
        reason=f"{reason_code}: {reason_text}",
        recipients=[f"{r.username} ({r.role})" for r in recipients],
        details={"access": access.pk, "expires_at": access.expires_at.isoformat(), "flagged": True},
    )
    return access


def review_queue(actor: User) -> list[BreakGlassAccess]:
    """Unreviewed emergency accesses of the actor's agency (for holders of the review action)."""
    if not can(actor, Action.BREAK_GLASS_REVIEW) or actor.agency_id is None:
        return []
    return list(
        BreakGlassAccess.objects.filter(agency_id=_agency_of(actor), reviewed_at__isnull=True)
        .select_related("actor")
        .order_by("started_at")
    )


@transaction.atomic
def break_glass_review(*, actor: User, access_id: int, finding: str, note: str) -> BreakGlassAccess:
    """Record the privacy officer's finding on an emergency access (once)."""
    if not can(actor, Action.BREAK_GLASS_REVIEW):
        raise ServiceError("Your role may not review emergency accesses.")
    if finding not in REVIEW_FINDINGS:
        raise ServiceError("Choose a finding: justified or not justified.", field="finding")
    access = (
        BreakGlassAccess.objects.select_for_update()
        .filter(pk=access_id, agency_id=_agency_of(actor))
        .first()
    )
    if access is None:
        raise ServiceError("No emergency access with this id in your agency.", field="access")
    if access.reviewed_at is not None:
        raise ServiceError("This emergency access has already been reviewed.", field="access")
    if access.actor_id == actor.pk:
        raise ServiceError("Nobody reviews their own emergency access.", field="access")
    access.reviewed_at = timezone.now()
    access.reviewed_by = actor
    access.review_finding = finding
    access.review_note = note.strip()[:500]
    access.save(update_fields=["reviewed_at", "reviewed_by", "review_finding", "review_note"])
    audit_record(
        actor=actor,
        event_type=EventType.BREAK_GLASS_REVIEWED,
        target=access.check_record,
        reason=access.review_note,
        details={"access": access.pk, "finding": finding},
    )
    return access
