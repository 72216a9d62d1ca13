"""Rectification (with a supplementary statement), erasure and restriction requests, each with a
written outcome and reasons, and audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from wellcheck.audit.models import AuditEvent
from wellcheck.checks.models import CheckDetail, RecordMode, WellnessCheck
from wellcheck.core.errors import ServiceError
from wellcheck.crypto import keyring
from wellcheck.people.models import Person
from wellcheck.retention.models import Mechanism, ProtectedRecord
from wellcheck.rights.models import RequestStatus, RightsRequest, SupplementaryStatement
from wellcheck.rights.services import (
    erasure_decide,
    rectification_decide,
    restriction_decide,
    rights_request_open,
    subject_access_answer,
    subject_access_open,
)
from wellcheck.testing.personas import World


def test_rectification_corrects_and_adds_a_statement(world: World, subject: dict[str, Any]) -> None:
    person, checks = subject["person"], subject["checks"]
    req = rights_request_open(
        actor=world.records,
        person=person,
        kind="rectification",
        request_text="My birth date is wrong and the first report is incomplete.",
    )
    with pytest.raises(ServiceError):
        rectification_decide(actor=world.records, request=req, status="granted", outcome=" ")
    rectification_decide(
        actor=world.records,
        request=req,
        status="granted",
        outcome="We corrected your birth date and added your statement to the first record.",
        corrections={"date_of_birth": dt.date(1937, 11, 24)},
        supplementary_statement="I had called my daughter that morning.",
        check_id=checks[0].pk,
    )
    assert Person.objects.get(pk=person.pk).date_of_birth == dt.date(1937, 11, 24)
    statement = SupplementaryStatement.objects.get()
    assert statement.statement == "I had called my daughter that morning."
    row = RightsRequest.objects.get(pk=req.pk)
    assert row.status == RequestStatus.GRANTED and row.outcome.startswith("We corrected")
    sar = subject_access_open(
        actor=world.records, person=person, requester="The person", identity_checked="Passport"
    )
    pkg = subject_access_answer(actor=world.records, request=sar)
    assert pkg["supplementary_statements"][0]["statement"].startswith("I had called")
    event = AuditEvent.objects.get(event_type="rights.request_decided")
    assert event.details["status"] == "granted" and "daughter" not in str(event.details)


def test_erasure_granted_shreds_the_person_and_keeps_the_outcome(
    world: World, subject: dict[str, Any]
) -> None:
    person, checks = subject["person"], subject["checks"]
    req = rights_request_open(
        actor=world.records, person=person, kind="erasure", request_text="Please erase my data."
    )
    erasure_decide(
        actor=world.records,
        request=req,
        status="granted",
        outcome="Your identifying data has been erased; anonymous counts remain.",
    )
    assert not Person.objects.filter(pk=person.pk).exists()
    assert WellnessCheck.objects.get(pk=checks[0].pk).record_mode == RecordMode.TALLY
    assert not CheckDetail.objects.filter(pk__in=[c.pk for c in checks]).exists()
    keyring.reset_caches()
    row = RightsRequest.objects.get(pk=req.pk)
    assert row.outcome.startswith("Your identifying data has been erased")
    assert AuditEvent.objects.filter(event_type="person.erased", target_id=str(person.pk)).exists()


def test_erasure_refused_or_restricted_instead(world: World, subject: dict[str, Any]) -> None:
    person, checks = subject["person"], subject["checks"]
    req = rights_request_open(
        actor=world.records, person=person, kind="erasure", request_text="Erase everything."
    )
    erasure_decide(
        actor=world.records,
        request=req,
        status="refused",
        restrict_instead=True,
        outcome="Refused under s.47(2): the records are needed as evidence; they are restricted.",
    )
    assert Person.objects.filter(pk=person.pk).exists()
    mechanisms = set(
        ProtectedRecord.objects.filter(person=person).values_list("mechanism", flat=True)
    )
    assert mechanisms == {Mechanism.RESTRICTED, Mechanism.SEALED}
    assert not CheckDetail.objects.filter(person=person).exists()
    assert RightsRequest.objects.get(pk=req.pk).status == RequestStatus.REFUSED
    assert checks


def test_restriction_request(world: World, subject: dict[str, Any]) -> None:
    person = subject["person"]
    req = rights_request_open(
        actor=world.records,
        person=person,
        kind="restriction",
        request_text="I contest the accuracy of the second report.",
    )
    restriction_decide(
        actor=world.records,
        request=req,
        status="granted",
        outcome="Your records are restricted while the accuracy is checked.",
    )
    assert (
        ProtectedRecord.objects.filter(person=person, mechanism=Mechanism.RESTRICTED).count() == 3
    )
    assert AuditEvent.objects.filter(event_type="record.restricted").count() == 3
