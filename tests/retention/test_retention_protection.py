"""Seal, restrict and expunge behave differently, and each is audited."""

from __future__ import annotations

import pytest
from django.http import Http404

from wellcheck.audit.models import AuditEvent
from wellcheck.checks.models import CheckDetail, RecordMode, WellnessCheck
from wellcheck.core.errors import InvalidTransition, ServiceError
from wellcheck.crypto.models import DataKey, DataKeyState
from wellcheck.crypto.testing import record_check
from wellcheck.people.models import Person
from wellcheck.retention.models import ProtectedRecord
from wellcheck.retention.protection import (
    protected_record_view,
    record_expunge,
    record_restrict,
    record_seal,
    record_unrestrict,
    record_unseal,
)
from wellcheck.testing.audit_asserts import assert_audited, audit_mark
from wellcheck.testing.personas import World


def events(check_id: object) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_id=str(check_id))
        .order_by("id")
        .values_list("event_type", flat=True)
    )


def test_seal_hides_the_record_and_unseal_restores_it(world: World) -> None:
    check, detail, person = record_check(world, narrative="Sealed narrative")
    before = {f: getattr(detail, f) for f in ("address", "narrative", "incident_number")}
    # an officer may not seal
    with pytest.raises(Http404):
        record_seal(actor=world.officer_a, check=check, reason="Court order 12")
    with pytest.raises(ServiceError):
        record_seal(actor=world.records, check=check, reason=" ")
    record_seal(actor=world.records, check=check, reason="Court order 12")
    assert not CheckDetail.objects.filter(pk=check.pk).exists()
    assert WellnessCheck.objects.get(pk=check.pk).record_mode == RecordMode.TALLY
    # hidden: not even the records officer reads it while sealed
    with pytest.raises(InvalidTransition, match="sealed"):
        protected_record_view(actor=world.records, check_id=check.pk, reason="curious")
    record_unseal(actor=world.records, check=check, reason="Order set aside")
    back = CheckDetail.objects.get(pk=check.pk)
    assert {f: getattr(back, f) for f in before} == before and back.person_id == person.pk
    assert WellnessCheck.objects.get(pk=check.pk).record_mode == RecordMode.IDENTIFIED
    assert events(check.pk)[-2:] == ["record.sealed", "record.unsealed"]
    sealed = AuditEvent.objects.get(event_type="record.sealed")
    assert sealed.reason == "Court order 12" and sealed.actor_id == world.records.pk


def test_restrict_keeps_for_evidence_readable_with_a_reason(world: World) -> None:
    check, _, _ = record_check(world, narrative="Evidence narrative")
    record_restrict(actor=world.records, check=check, reason="Evidence in case 77")
    assert not CheckDetail.objects.filter(pk=check.pk).exists()
    with pytest.raises(Http404):
        protected_record_view(actor=world.officer_a, check_id=check.pk, reason="look")
    payload = protected_record_view(
        actor=world.records, check_id=check.pk, reason="Disclosure to CPS"
    )
    assert payload["narrative"] == "Evidence narrative"
    viewed = AuditEvent.objects.get(event_type="record.protected_viewed")
    assert viewed.reason == "Disclosure to CPS" and "Evidence narrative" not in str(viewed.details)
    with pytest.raises(InvalidTransition, match="not sealed"):
        record_unseal(actor=world.records, check=check, reason="wrong mechanism")
    mark = audit_mark()
    record_unrestrict(actor=world.records, check=check, reason="Case closed")
    lifted = assert_audited(
        "record.unrestricted", target=check, actor=world.records, after=mark, count=1
    )
    assert lifted.reason == "Case closed"
    assert CheckDetail.objects.get(pk=check.pk).narrative == "Evidence narrative"
    assert events(check.pk)[-3:] == [
        "record.restricted",
        "record.protected_viewed",
        "record.unrestricted",
    ]


def test_expunge_deletes_for_good_and_erases_an_orphaned_person(world: World) -> None:
    check, _, person = record_check(world)
    kept, _, other = record_check(world, given="Kept", family="Person", minutes_ago=20)
    record_expunge(actor=world.records, check=check, reason="Expungement order 3")
    assert not WellnessCheck.objects.filter(pk=check.pk).exists()
    assert not Person.objects.filter(pk=person.pk).exists()
    assert (
        not DataKey.objects.filter(scope=f"person:{person.pk}")
        .exclude(state=DataKeyState.DESTROYED)
        .exists()
    )
    assert Person.objects.get(pk=other.pk).given_name == "Kept"
    assert "record.expunged" in events(check.pk)
    assert not ProtectedRecord.objects.exists()


def test_a_sealed_record_is_shredded_with_its_person(world: World) -> None:
    check, _, person = record_check(world, narrative="Sealed then erased")
    record_seal(actor=world.records, check=check, reason="Order 1")
    record_expunge(actor=world.records, check=check, reason="Order 2")
    assert not ProtectedRecord.objects.filter(pk=check.pk).exists()
    assert not Person.objects.filter(pk=person.pk).exists()
