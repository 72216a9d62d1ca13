"""Shared set-up for the records officer's page tests (tests/test_pages_records*.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client

from wellcheck.checks.inputs import CheckInput, PersonInput
from wellcheck.checks.models import WellnessCheck
from wellcheck.checks.services import check_create
from wellcheck.testing.personas import World, recent


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make_check(
    world: World,
    *,
    given: str = "John",
    family: str = "Smith",
    dob: dt.date | None = dt.date(1950, 2, 3),
    narrative: str = "Found well, offered resources.",
) -> WellnessCheck:
    received = recent(90)
    return check_create(
        actor=world.officer_a,
        data=CheckInput(
            unit_id=world.unit_a.pk,
            received_at=received,
            incident_number="E230000001",
            initiator="family",
            reasons=("dementia",),
            address="100 MAIN ST",
            triage="attend",
            triage_rationale="Family worried.",
            dispatched_at=received + dt.timedelta(minutes=2),
            arrived_at=received + dt.timedelta(minutes=10),
            cleared_at=received + dt.timedelta(minutes=30),
            outcome="resources_offered",
            narrative=narrative,
            person=PersonInput(given_name=given, family_name=family, date_of_birth=dob),
        ),
    )


def open_person_page(client: Client, person_id: object) -> Any:
    """Give the reason for the look, then open the page."""
    from django.urls import reverse

    url = reverse("people:detail", args=[person_id])
    client.post(url, {"reason": "records_request", "reason_text": "SAR 12"})
    return client.get(url)
