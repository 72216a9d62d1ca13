"""Recording, submitting and reviewing checks through the services, with their audit events."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from wellcheck.accounts.permissions import Action
from wellcheck.audit.models import AuditEvent
from wellcheck.checks.inputs import CheckInput, ConsentInput, PersonInput
from wellcheck.checks.models import CheckDetail, CheckState, RecordMode, WellnessCheck
from wellcheck.checks.services import (
    check_create,
    check_mark_mental_health,
    check_review,
    check_submit,
    check_update,
)
from wellcheck.people.models import Person
from wellcheck.testing.audit_asserts import assert_audited, assert_not_audited, audit_mark
from wellcheck.testing.personas import World, recent


def full_input(world: World, **over: object) -> CheckInput:
    received = recent(60)
    values: dict[str, object] = dict(
        unit_id=world.unit_a.pk,
        received_at=received,
        incident_number="E230100001",
        initiator="family",
        reasons=("dementia", "older_not_seen"),
        address="100 BLOCK MAIN ST",
        triage="attend",
        triage_rationale="Risk to life reported.",
        caller_told=True,
        dispatched_at=received + dt.timedelta(minutes=2),
        arrived_at=received + dt.timedelta(minutes=12),
        cleared_at=received + dt.timedelta(minutes=40),
        observed=("disoriented",),
        outcome="resources_offered",
        referrals=("adult_protective",),
        narrative="Found confused at home.",
        person=PersonInput(
            given_name="Ada", family_name="Testperson", date_of_birth=dt.date(1940, 1, 2)
        ),
    )
    values.update(over)
    return CheckInput(**values)  # type: ignore[arg-type]


def test_officer_records_full_check_with_audit(world: World) -> None:
    check = check_create(actor=world.officer_a, data=full_input(world))
    assert check.record_mode == RecordMode.IDENTIFIED
    assert check.state == CheckState.DRAFT
    assert check.response_seconds == 12 * 60
    assert check.on_scene_seconds == 28 * 60
    assert sorted(c.code for c in check.reasons.all()) == ["dementia", "older_not_seen"]
    detail = CheckDetail.objects.get(check_record=check)
    assert detail.person is not None and detail.person.family_name == "Testperson"
    event = AuditEvent.objects.get(event_type="check.created", target_id=str(check.pk))
    assert event.actor_id == world.officer_a.pk and event.outcome == "success"


def test_unknown_code_names_the_field_and_writes_nothing(world: World) -> None:
    before = WellnessCheck.objects.count(), AuditEvent.objects.count()
    with pytest.raises(ValidationError) as err:
        check_create(actor=world.officer_a, data=full_input(world, reasons=("dementia", "bogus")))
    assert "reasons" in err.value.message_dict
    assert "bogus" in err.value.message_dict["reasons"][0]
    assert (WellnessCheck.objects.count(), AuditEvent.objects.count()) == before
    assert Person.objects.count() == 0


def test_arrival_before_receipt_is_refused(world: World) -> None:
    data = full_input(world)
    bad = full_input(world, arrived_at=data.received_at - dt.timedelta(minutes=1))
    with pytest.raises(ValidationError) as err:
        check_create(actor=world.officer_a, data=bad)
    assert "arrived_at" in err.value.message_dict


def test_officer_cannot_record_for_another_unit(world: World) -> None:
    check_create(actor=world.officer_a, data=full_input(world))  # valid for own unit
    with pytest.raises(ValidationError) as err:
        check_create(actor=world.officer_a, data=full_input(world, unit_id=world.unit_b.pk))
    assert "unit" in err.value.message_dict


def test_submit_review_return_resubmit_approve(world: World) -> None:
    check = check_create(actor=world.officer_a, data=full_input(world))
    mark = audit_mark()
    check_submit(actor=world.officer_a, check=check)
    assert_audited("check.submitted", target=check, actor=world.officer_a, after=mark, count=1)
    mark = audit_mark()
    with pytest.raises(ValidationError):
        check_review(actor=world.supervisor_a, check=check, decision="returned", note="")
    assert_not_audited("check.returned", after=mark)  # refused: nothing written
    check = check_review(
        actor=world.supervisor_a, check=check, decision="returned", note="Add referral"
    )
    returned = assert_audited(
        "check.returned", target=check, actor=world.supervisor_a, after=mark, count=1
    )
    assert "Add referral" not in str(returned.details)  # the note stays in its table
    assert check.state == CheckState.RETURNED
    check = check_update(
        actor=world.officer_a, check=check, data=full_input(world, referrals=("housing",))
    )
    check = check_submit(actor=world.officer_a, check=check)
    check = check_review(actor=world.supervisor_a, check=check, decision="approved")
    assert check.state == CheckState.APPROVED
    types = list(
        AuditEvent.objects.filter(target_id=str(check.pk)).values_list("event_type", flat=True)
    )
    assert types == [
        "check.created",
        "check.submitted",
        "check.returned",
        "check.updated",
        "check.submitted",
        "check.approved",
    ]
    with pytest.raises(ValidationError):
        check_update(actor=world.officer_a, check=check, data=full_input(world))


def test_incomplete_check_cannot_be_submitted(world: World) -> None:
    check = check_create(
        actor=world.officer_a, data=CheckInput(unit_id=world.unit_a.pk, received_at=recent())
    )
    with pytest.raises(ValidationError) as err:
        check_submit(actor=world.officer_a, check=check)
    assert set(err.value.message_dict) == {"initiator", "reasons", "triage", "outcome"}
    check.refresh_from_db()
    assert check.state == CheckState.DRAFT


def test_update_audit_masks_sensitive_values(world: World) -> None:
    check = check_create(actor=world.officer_a, data=full_input(world))
    check_update(
        actor=world.officer_a, check=check, data=full_input(world, narrative="Zqxv secret words")
    )
    event = AuditEvent.objects.get(event_type="check.updated")
    assert event.changes["narrative"] == {"from": "[masked]", "to": "[masked]"}
    assert "Zqxv" not in str(event.changes)


def test_mark_mental_health_after_the_fact(world: World) -> None:
    check = check_create(actor=world.officer_a, data=full_input(world))
    check_submit(actor=world.officer_a, check=check)
    check_review(actor=world.supervisor_a, check=check, decision="approved")
    check_mark_mental_health(actor=world.officer_a2, check=check)
    check.refresh_from_db()
    assert check.mental_health_related
    assert AuditEvent.objects.filter(event_type="check.marked_mental_health").count() == 1


def test_restrict_by_unit(world: World) -> None:
    check = check_create(actor=world.officer_a, data=full_input(world))
    visible = WellnessCheck.objects.restrict
    assert visible(world.officer_a2, Action.CHECK_VIEW).filter(pk=check.pk).exists()
    assert visible(world.supervisor_a, Action.CHECK_VIEW).filter(pk=check.pk).exists()
    assert visible(world.admin, Action.CHECK_VIEW).filter(pk=check.pk).exists()
    assert not visible(world.officer_b, Action.CHECK_VIEW).filter(pk=check.pk).exists()
    assert not visible(world.supervisor_b, Action.CHECK_VIEW).filter(pk=check.pk).exists()
    assert not visible(world.analyst, Action.CHECK_VIEW).exists()
    assert not visible(world.other_agency_officer, Action.CHECK_VIEW).exists()


def test_consent_only_without_consent_keeps_a_tally(consent_world: World) -> None:
    w = consent_world
    check = check_create(actor=w.officer_a, data=full_input(w))
    assert check.record_mode == RecordMode.TALLY
    assert check.received_at.minute == 0 and check.received_at.second == 0
    assert check.response_seconds == 12 * 60
    assert not CheckDetail.objects.filter(check_record=check).exists()
    assert Person.objects.count() == 0
    assert AuditEvent.objects.filter(event_type="check.tallied").count() == 1


def test_consent_only_with_consent_keeps_identity_until_withdrawn(consent_world: World) -> None:
    from wellcheck.people.services import consent_withdraw

    w = consent_world
    check = check_create(actor=w.officer_a, data=full_input(w, consent=ConsentInput()))
    assert check.record_mode == RecordMode.IDENTIFIED
    person = Person.objects.get()
    consent = person.consents.get()
    assert consent.taken_by == w.officer_a and consent.expires_at is not None
    assert consent_withdraw(actor=w.officer_a, consent=consent) is True
    check.refresh_from_db()
    assert check.record_mode == RecordMode.TALLY
    assert not Person.objects.exists() and not CheckDetail.objects.exists()


def test_consent_lapse_turns_record_into_tally(consent_world: World) -> None:
    from django.utils import timezone

    from wellcheck.people.services import consent_lapse_sweep

    w = consent_world
    check = check_create(actor=w.officer_a, data=full_input(w, consent=ConsentInput()))
    assert consent_lapse_sweep(now=timezone.now()) == 0
    assert consent_lapse_sweep(now=timezone.now() + dt.timedelta(days=366)) == 1
    check.refresh_from_db()
    assert check.is_tally
