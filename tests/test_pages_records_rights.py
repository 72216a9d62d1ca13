"""The records officer's rights pages: subject access (open, answer with redactions and reasons,
download), rectification with a supplementary statement, erasure and restriction, each decided
with a written outcome; bad input names the field and writes nothing; who may not."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse
from records_pages_helpers import client_for, make_check

from wellcheck.audit.events import EventType
from wellcheck.audit.models import AuditEvent
from wellcheck.checks.models import CheckDetail
from wellcheck.people.models import Person
from wellcheck.retention.models import Mechanism, ProtectedRecord
from wellcheck.rights.models import (
    Redaction,
    RequestStatus,
    RightsKind,
    RightsRequest,
    SubjectAccessRequest,
    SupplementaryStatement,
)
from wellcheck.rights.services import rights_request_open, subject_access_open

pytestmark = pytest.mark.django_db


def test_subject_access_open_answer_and_download(world) -> None:
    check = make_check(world)
    second = make_check(world, narrative="Second visit").detail
    old_person = second.person
    second.person = check.detail.person  # the same person's second check
    second.save()  # re-encrypted under that person's key
    old_person.delete()
    person_id = check.detail.person_id
    client = client_for(world.records)
    url = reverse("rights:access_new", args=[person_id])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"requester": "", "identity_checked": "Passport"})
    assert bad.status_code == 200
    assert b"Who asked (the person or their agent): This field is required." in bad.content
    assert not SubjectAccessRequest.objects.exists()
    ok = client.post(
        url,
        {"requester": "The person", "identity_checked": "Passport", "received_on": "2026-01-31"},
    )
    sar = SubjectAccessRequest.objects.get()
    assert ok["Location"] == reverse("rights:access_detail", args=[sar.pk])
    assert sar.due_on == dt.date(2026, 2, 28)
    assert AuditEvent.objects.filter(event_type=EventType.SUBJECT_ACCESS_OPENED).exists()
    listing = client.get(reverse("rights:list"))
    assert b"overdue" in listing.content  # due 2026-02-28, today is later
    detail_url = reverse("rights:access_detail", args=[sar.pk])
    bad_line = client.post(detail_url, {"redactions": "checks[0].narrative"})
    assert b"Line 1: write the item" in bad_line.content
    unknown = client.post(detail_url, {"redactions": "checks[9].nothing | third party"})
    assert b"Nothing to withhold at checks[9].nothing" in unknown.content
    sar.refresh_from_db()
    assert sar.status == RequestStatus.OPEN
    answered = client.post(detail_url, {"redactions": "checks[0].narrative | names a neighbour"})
    assert answered.status_code == 302
    sar.refresh_from_db()
    assert sar.status == RequestStatus.ANSWERED
    assert len(sar.answer["checks"]) == 2
    assert Redaction.objects.filter(request=sar, reason="names a neighbour").exists()
    page = client.get(detail_url)
    assert b"names a neighbour" in page.content
    assert reverse("rights:access_answer", args=[sar.pk, "pdf"]).encode() in page.content
    download = client.get(reverse("rights:access_answer", args=[sar.pk, "json"]))
    assert download.status_code == 200
    assert (
        json.loads(
            b"".join(download.streaming_content) if download.streaming else download.content
        )["person"]["family_name"]
        == "Smith"
    )
    assert AuditEvent.objects.filter(event_type=EventType.SUBJECT_ACCESS_ANSWERED).exists()


def _request(world, kind: str) -> RightsRequest:
    check = make_check(world)
    return rights_request_open(
        actor=world.records, person=check.detail.person, kind=kind, request_text="Please act"
    )


def test_open_a_rights_request_page(world) -> None:
    person_id = make_check(world).detail.person_id
    client = client_for(world.records)
    url = reverse("rights:request_new", args=[person_id])
    bad = client.post(url, {"kind": "erasure", "request_text": " "})
    assert b"What the person asks: This field is required." in bad.content
    assert not RightsRequest.objects.exists()
    ok = client.post(url, {"kind": "erasure", "request_text": "Delete my record"})
    row = RightsRequest.objects.get()
    assert ok["Location"] == reverse("rights:request_detail", args=[row.pk])
    assert (row.kind, row.request_text) == (RightsKind.ERASURE, "Delete my record")
    assert AuditEvent.objects.filter(event_type=EventType.RIGHTS_REQUEST_RECEIVED).exists()


def test_rectification_with_supplementary_statement(world) -> None:
    row = _request(world, RightsKind.RECTIFICATION)
    client = client_for(world.records)
    url = reverse("rights:request_detail", args=[row.pk])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"status": "partly", "outcome": ""})
    assert b"Written outcome, with reasons: This field is required." in bad.content
    row.refresh_from_db()
    assert row.status == RequestStatus.OPEN
    ok = client.post(
        url,
        {
            "status": "partly",
            "outcome": "Name corrected; the narrative stands with your statement.",
            "given_name": "Jon",
            "supplementary_statement": "I was not confused.",
        },
    )
    assert ok.status_code == 302
    row.refresh_from_db()
    assert row.status == RequestStatus.PARTLY
    assert Person.objects.get(pk=row.person_id).given_name == "Jon"
    assert SupplementaryStatement.objects.get(request=row).statement == "I was not confused."
    assert AuditEvent.objects.filter(event_type=EventType.RIGHTS_REQUEST_DECIDED).exists()
    assert b"Name corrected" in client.get(url).content


def test_erasure_granted_shreds_the_person_keeps_the_tally(world) -> None:
    row = _request(world, RightsKind.ERASURE)
    person_id = row.person_id
    url = reverse("rights:request_detail", args=[row.pk])
    response = client_for(world.records).post(
        url, {"status": "granted", "outcome": "Erased as asked."}
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == RequestStatus.GRANTED
    assert not Person.objects.filter(pk=person_id).exists()
    assert not CheckDetail.objects.filter(person_id=person_id).exists()
    assert AuditEvent.objects.filter(event_type=EventType.PERSON_ERASED).exists()


def test_restriction_granted_restricts_the_checks(world) -> None:
    row = _request(world, RightsKind.RESTRICTION)
    check_ids = list(
        CheckDetail.objects.filter(person_id=row.person_id).values_list("pk", flat=True)
    )
    url = reverse("rights:request_detail", args=[row.pk])
    client = client_for(world.records)
    partly = client.post(url, {"status": "partly", "outcome": "Some"})
    assert b"Decision: Choose granted or refused." in partly.content
    ok = client.post(url, {"status": "granted", "outcome": "Accuracy contested: restricted."})
    assert ok.status_code == 302
    assert ProtectedRecord.objects.get(pk=check_ids[0]).mechanism == Mechanism.RESTRICTED


def test_rights_pages_refused_to_others(world) -> None:
    check = make_check(world)
    person = check.detail.person
    sar = subject_access_open(
        actor=world.records, person=person, requester="The person", identity_checked="ID"
    )
    row = rights_request_open(
        actor=world.records, person=person, kind=RightsKind.ERASURE, request_text="Erase"
    )
    urls = [
        reverse("rights:list"),
        reverse("rights:access_new", args=[person.pk]),
        reverse("rights:access_detail", args=[sar.pk]),
        reverse("rights:request_new", args=[person.pk]),
        reverse("rights:request_detail", args=[row.pk]),
    ]
    for persona in (world.officer_a, world.supervisor_a, world.analyst, world.auditor):
        client = client_for(persona)
        for url in urls:
            assert client.get(url).status_code == 403, (persona.username, url)
        decide = client.post(urls[-1], {"status": "granted", "outcome": "x"})
        assert decide.status_code == 403
    assert Person.objects.filter(pk=person.pk).exists()
    # another agency's records are not found
    SubjectAccessRequest.objects.filter(pk=sar.pk).update(
        agency_id=world.other_agency_officer.agency_id
    )
    RightsRequest.objects.filter(pk=row.pk).update(agency_id=world.other_agency_officer.agency_id)
    client = client_for(world.records)
    assert client.get(urls[2]).status_code == 404
    assert client.post(urls[4], {"status": "granted", "outcome": "x"}).status_code == 404
    assert Person.objects.filter(pk=person.pk).exists()
