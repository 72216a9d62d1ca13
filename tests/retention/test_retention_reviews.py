"""Record classes and review intervals, the daily job that creates review tasks, and recorded
decisions: keep (with reason) or dispose (identity crypto-shredded, tally kept)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from wellcheck.audit.models import AuditEvent
from wellcheck.checks.models import CheckDetail, RecordMode, WellnessCheck
from wellcheck.core.errors import InvalidTransition, ServiceError
from wellcheck.crypto.testing import record_check
from wellcheck.people.models import Person
from wellcheck.retention.jobs import retention_review, retention_review_task
from wellcheck.retention.models import (
    CaseLink,
    RecordClass,
    RetentionReview,
    RetentionSchedule,
)
from wellcheck.retention.protection import record_restrict
from wellcheck.retention.reviews import retention_review_sweep, review_decide
from wellcheck.testing.personas import World


def in_years(years: float) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=int(years * 365) + 1)


def test_daily_job_creates_tasks_by_record_class(world: World) -> None:
    plain, _, _ = record_check(world, minutes_ago=90)
    supported, _, _ = record_check(
        world, given="Sup", family="Ported", consent=True, minutes_ago=80
    )
    case, _, _ = record_check(world, given="Case", family="Linked", minutes_ago=70)
    CaseLink.objects.create(
        check_record=case,
        case_reference="CR-1",
        linked_by=world.records,
        linked_at=timezone.now(),
    )
    assert retention_review_sweep() == 0
    # a year on: only the check with ongoing support falls due (yearly review)
    assert retention_review_sweep(today=in_years(1)) == 1
    review = RetentionReview.objects.get()
    assert review.check_ref == supported.pk and review.record_class == RecordClass.WITH_SUPPORT
    assert retention_review_sweep(today=in_years(1)) == 0  # idempotent: one open task per check
    # six years on: the plain check (non-crime default); the case-linked one waits for ten
    assert retention_review_sweep(today=in_years(6)) == 1
    assert set(RetentionReview.objects.values_list("record_class", flat=True)) == {
        RecordClass.WITH_SUPPORT,
        RecordClass.NO_SUPPORT,
    }
    assert retention_review_sweep(today=in_years(10)) == 1
    assert AuditEvent.objects.filter(event_type="retention.review_due").count() == 3


def test_agency_sets_its_own_interval(world: World) -> None:
    record_check(world)
    RetentionSchedule.objects.create(
        agency=world.agency, record_class=RecordClass.NO_SUPPORT, review_days=30
    )
    assert retention_review_sweep(today=in_years(0.1)) == 1


def test_keep_needs_a_reason_and_is_recorded(world: World) -> None:
    check, _, _ = record_check(world)
    retention_review_sweep(today=in_years(6))
    review = RetentionReview.objects.get()
    with pytest.raises(ServiceError):
        review_decide(actor=world.records, review=review, decision="keep", reason="")
    review_decide(actor=world.records, review=review, decision="keep", reason="Repeat concern")
    review.refresh_from_db()
    assert review.decision == "keep" and review.decided_by == world.records
    with pytest.raises(InvalidTransition):
        review_decide(actor=world.records, review=review, decision="keep", reason="again")
    # next review counts from the decision
    assert retention_review_sweep(today=in_years(6)) == 0
    event = AuditEvent.objects.get(event_type="retention.decided")
    assert event.details["decision"] == "keep" and event.reason == "Repeat concern"


def test_dispose_shreds_identity_and_keeps_the_tally(world: World) -> None:
    check, _, person = record_check(world)
    reasons = sorted(c.code for c in check.reasons.all())
    retention_review_sweep(today=in_years(6))
    review = RetentionReview.objects.get()
    review_decide(actor=world.records, review=review, decision="dispose", reason="Past retention")
    tally = WellnessCheck.objects.get(pk=check.pk)
    assert tally.record_mode == RecordMode.TALLY and tally.unit_id == world.unit_a.pk
    assert sorted(c.code for c in tally.reasons.all()) == reasons
    assert not CheckDetail.objects.filter(pk=check.pk).exists()
    assert not Person.objects.filter(pk=person.pk).exists()
    assert AuditEvent.objects.filter(event_type="person.erased", target_id=str(person.pk)).exists()
    assert AuditEvent.objects.filter(event_type="retention.disposed").count() == 1


def test_restricted_record_cannot_be_disposed(world: World) -> None:
    check, _, _ = record_check(world)
    record_restrict(actor=world.records, check=check, reason="Evidence")
    retention_review_sweep(today=in_years(6))
    review = RetentionReview.objects.get()
    with pytest.raises(InvalidTransition, match="evidence"):
        review_decide(actor=world.records, review=review, decision="dispose", reason="Past")


def test_officer_cannot_decide_reviews(world: World) -> None:
    from django.http import Http404

    record_check(world)
    retention_review_sweep(today=in_years(6))
    with pytest.raises(Http404):
        review_decide(
            actor=world.officer_a,
            review=RetentionReview.objects.get(),
            decision="keep",
            reason="mine",
        )


def test_job_entry_points(world: World) -> None:
    record_check(world)
    assert retention_review() == "0 retention review(s) created"
    assert retention_review_task.call() == 0
