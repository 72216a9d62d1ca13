"""The records officer's person pages: forgiving search, the person page (read audited with a
reason), consent withdrawal; who may not reach them."""

from __future__ import annotations

import pytest
from django.urls import reverse
from records_pages_helpers import client_for, make_check, open_person_page

from wellcheck.audit.events import EventType
from wellcheck.audit.models import AuditEvent
from wellcheck.checks.inputs import ConsentInput
from wellcheck.people.models import Consent
from wellcheck.people.services import consent_record

pytestmark = pytest.mark.django_db


def test_misspelt_search_finds_the_person_for_the_records_officer(world) -> None:
    check = make_check(world)
    client = client_for(world.records)
    response = client.get(reverse("people:search"), {"name": "Jon Smyth", "birth_year": "1950"})
    assert response.status_code == 200
    person_id = check.detail.person_id
    assert reverse("people:detail", args=[person_id]).encode() in response.content
    assert b"John Smith" in response.content
    assert AuditEvent.objects.filter(
        event_type=EventType.PERSON_SEARCHED, actor_id=world.records.pk
    ).exists()
    # the search terms are not in the audit event
    assert not AuditEvent.objects.filter(details__icontains="Smyth").exists()


def test_search_without_a_name_or_birth_date_names_the_field(world) -> None:
    client = client_for(world.records)
    response = client.get(reverse("people:search"), {"name": " ", "birth_year": "1950"})
    assert response.status_code == 200
    assert b"Name: Give a family name" in response.content
    assert not AuditEvent.objects.filter(event_type=EventType.PERSON_SEARCHED).exists()
    response = client.get(reverse("people:search"), {"name": "Smith", "birth_date": "1950-13-40"})
    assert b"Birth date (YYYY-MM-DD): Enter a valid date" in response.content


def test_person_page_asks_a_reason_then_audits_the_read_with_it(world) -> None:
    check = make_check(world)
    person_id = check.detail.person_id
    client = client_for(world.records)
    url = reverse("people:detail", args=[person_id])
    first = client.get(url)
    assert first.status_code == 200
    assert b"John" not in first.content  # no identity before the reason
    assert not AuditEvent.objects.filter(event_type=EventType.PERSON_VIEWED).exists()
    bad = client.post(url, {"reason": "other", "reason_text": ""})
    assert b"Details: Explain the reason" in bad.content
    assert not AuditEvent.objects.filter(event_type=EventType.PERSON_VIEWED).exists()
    page = open_person_page(client, person_id)
    assert page.status_code == 200
    assert b"John Smith" in page.content
    assert reverse("checks:detail", args=[check.pk]).encode() in page.content
    event = AuditEvent.objects.get(event_type=EventType.PERSON_VIEWED)
    assert event.target_id == str(person_id)
    assert event.reason == "records_request: SAR 12"


def test_who_may_not_open_the_person_pages(world) -> None:
    check = make_check(world)
    person_id = check.detail.person_id
    for persona in (world.analyst, world.auditor):
        client = client_for(persona)
        assert client.get(reverse("people:search")).status_code == 403
        assert client.get(reverse("people:detail", args=[person_id])).status_code == 403
    # an officer of another beat: the person is outside their scope
    other = client_for(world.officer_b)
    assert other.get(reverse("people:detail", args=[person_id])).status_code == 404
    found = other.get(reverse("people:search"), {"name": "John Smith"})
    assert b"Nobody found." in found.content
    assert reverse("people:detail", args=[person_id]).encode() not in found.content
    # another agency's officer too
    far = client_for(world.other_agency_officer)
    assert far.get(reverse("people:detail", args=[person_id])).status_code == 404


def test_consent_withdraw_button(world) -> None:
    check = make_check(world)
    person = check.detail.person
    consent_record(
        actor=world.officer_a, person=person, consent=ConsentInput(scopes=("ongoing_support",))
    )
    consent = Consent.objects.get(person=person)
    client = client_for(world.records)
    page = open_person_page(client, person.pk)
    url = reverse("people:consent_withdraw", args=[person.pk, consent.pk])
    assert url.encode() in page.content
    # an analyst may not; an officer of another beat cannot see the person
    assert client_for(world.analyst).post(url).status_code == 403
    assert client_for(world.officer_b).post(url).status_code == 404
    consent.refresh_from_db()
    assert consent.withdrawn_at is None
    response = client.post(url)
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None
    assert AuditEvent.objects.filter(
        event_type=EventType.CONSENT_WITHDRAWN, actor_id=world.records.pk
    ).exists()
    again = client.post(url, follow=True)
    assert b"already withdrawn" in again.content
