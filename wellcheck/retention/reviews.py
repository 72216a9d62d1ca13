"""Retention reviews: each check has a record class with a review interval; a daily job creates a
review task when one falls due; every decision (keep with a reason, or dispose) is recorded.
Disposal crypto-shreds the identity and keeps the tally, so statistics survive.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Max
from django.http import Http404
from django.utils import timezone

from wellcheck.accounts.models import User
from wellcheck.accounts.permissions import Action
from wellcheck.audit.events import EventType
from wellcheck.audit.services import audit_record
from wellcheck.checks.models import CheckDetail, RecordMode, WellnessCheck
from wellcheck.core.errors import InvalidTransition, ServiceError
from wellcheck.people.models import Consent, ConsentScope
from wellcheck.retention.models import (
    DEFAULT_REVIEW_DAYS,
    CaseLink,
    Mechanism,
    ProtectedRecord,
    RecordClass,
    RetentionReview,
    RetentionSchedule,
    ReviewDecision,
)


def review_days(agency_id: object, record_class: str) -> int:
    own = RetentionSchedule.objects.filter(agency_id=agency_id, record_class=record_class).first()
    return own.review_days if own else DEFAULT_REVIEW_DAYS[record_class]


def classify(
    check: WellnessCheck,
    *,
    protection: str | None,
    has_case: bool,
    person_id: object,
    supported: set[object],
) -> str:
    if protection == Mechanism.SEALED:
        return RecordClass.SEALED
    if has_case:
        return RecordClass.CRIMINAL_CASE
    if check.record_mode == RecordMode.TALLY and protection is None:
        return RecordClass.TALLY
    if person_id is not None and person_id in supported:
        return RecordClass.WITH_SUPPORT
    return RecordClass.NO_SUPPORT


def retention_review_sweep(*, today: dt.date | None = None) -> int:
    """Create a review task for every check whose review is due and has none open. Idempotent.
    The next review after a decision counts from the decided review's due date."""
    today = today or timezone.localdate()
    open_refs = set(
        RetentionReview.objects.filter(decided_at__isnull=True).values_list("check_ref", flat=True)
    )
    last = dict(
        RetentionReview.objects.filter(decided_at__isnull=False)
        .values("check_ref")
        .annotate(at=Max("due_on"))
        .values_list("check_ref", "at")
    )
    protections = dict(ProtectedRecord.objects.values_list("pk", "mechanism"))
    cases = set(CaseLink.objects.values_list("pk", flat=True))
    persons = dict(CheckDetail.objects.values_list("pk", "person_id"))
    persons.update(dict(ProtectedRecord.objects.values_list("pk", "person_id")))
    supported = set(
        Consent.objects.active()
        .filter(scope__in=[ConsentScope.SUPPORT_PROFILE, ConsentScope.ONGOING_SUPPORT])
        .values_list("person_id", flat=True)
    )
    intervals: dict[tuple[object, str], int] = {}
    created = 0
    for check in WellnessCheck.objects.only(
        "pk", "agency_id", "record_mode", "received_at"
    ).iterator(chunk_size=2000):
        if check.pk in open_refs:
            continue
        cls = classify(
            check,
            protection=protections.get(check.pk),
            has_case=check.pk in cases,
            person_id=persons.get(check.pk),
            supported=supported,
        )
        key = (check.agency_id, cls)
        if key not in intervals:
            intervals[key] = review_days(check.agency_id, cls)
        since = last.get(check.pk) or timezone.localdate(check.received_at)
        due = since + dt.timedelta(days=intervals[key])
        if due > today:
            continue
        with transaction.atomic():
            RetentionReview.objects.create(
                check_record=check,
                check_ref=check.pk,
                agency_id=check.agency_id,
                record_class=cls,
                due_on=due,
                created_at=timezone.now(),
            )
            audit_record(
                actor=None,
                event_type=EventType.RETENTION_REVIEW_DUE,
                target=check,
                agency_id=check.agency_id,
                component="job",
                details={"record_class": cls},
            )
        created += 1
    return created


@transaction.atomic
def review_decide(*, actor: User, review: RetentionReview, decision: str, reason: str) -> None:
    """Record a decision. Keep needs a reason; dispose removes the identity and keeps the tally."""
    review = (
        RetentionReview.objects.restrict(actor, Action.RETENTION_REVIEW)
        .select_for_update()
        .filter(pk=review.pk)
        .first()
    )
    if review is None:
        raise Http404("No such review.")
    if review.decided_at is not None:
        raise InvalidTransition("This review was already decided.", field="decision")
    if decision not in ReviewDecision.values:
        raise ServiceError("Choose keep or dispose.", field="decision")
    if not reason.strip():
        raise ServiceError("Record the reason for the decision.", field="reason")
    if decision == ReviewDecision.DISPOSE:
        _dispose(actor=actor, review=review, reason=reason)
    review.decision, review.reason = decision, reason.strip()
    review.decided_by, review.decided_at = actor, timezone.now()
    review.save(update_fields=["decision", "reason", "decided_by", "decided_at"])
    audit_record(
        actor=actor,
        event_type=EventType.RETENTION_DECIDED,
        target_type="checks.wellnesscheck",
        target_id=str(review.check_ref),
        reason=reason.strip(),
        details={"decision": decision, "record_class": review.record_class},
    )


def _dispose(*, actor: User, review: RetentionReview, reason: str) -> None:
    from wellcheck.people.models import Person
    from wellcheck.people.services import person_erase

    check = WellnessCheck.objects.select_for_update().filter(pk=review.check_ref).first()
    if check is None:
        raise InvalidTransition("The check no longer exists.", field="decision")
    record = ProtectedRecord.objects.select_for_update().filter(pk=check.pk).first()
    if record is not None and record.mechanism == Mechanism.RESTRICTED:
        raise InvalidTransition("A restricted record is kept for evidence.", field="decision")
    detail = CheckDetail.objects.select_for_update().filter(pk=check.pk).first()
    if detail is None and record is None:
        raise InvalidTransition("A tally holds no identity to dispose of.", field="decision")
    person_id = (detail.person_id if detail else None) or (record.person_id if record else None)
    if record is not None:
        record.delete()
    if detail is not None:
        detail.delete()
    check.record_mode = RecordMode.TALLY
    check.received_at = check.received_at.replace(minute=0, second=0, microsecond=0)
    check.save(update_fields=["record_mode", "received_at", "updated_at"])
    audit_record(
        actor=actor,
        event_type=EventType.RECORD_DISPOSED,
        target=check,
        reason=reason,
    )
    person = Person.objects.filter(pk=person_id).first() if person_id else None
    if person is not None and not (
        CheckDetail.objects.filter(person_id=person.pk).exists()
        or ProtectedRecord.objects.filter(person_id=person.pk).exists()
    ):
        person_erase(actor=actor, person=person, reason=f"Retention disposal: {reason}")
