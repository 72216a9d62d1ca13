"""Fixtures for access-control tests: a check in unit A with a planted canary identity."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from wellcheck.checks.inputs import CheckInput, PersonInput
from wellcheck.checks.models import FollowUp, WellnessCheck
from wellcheck.checks.services import check_create, follow_up_create
from wellcheck.testing.personas import World, recent

# A person who exists only in tests: any of these strings in a response is a leak.
CANARY_GIVEN = "Zyxcanary"
CANARY_FAMILY = "Quillborne"
CANARY_DOB = dt.date(1937, 3, 14)
CANARY_ADDRESS = "4242 CANARYWOOD LN"
CANARY_NARRATIVE = "Canary-narrative-7731 found the person confused"
CANARY_STRINGS = (
    CANARY_GIVEN,
    CANARY_FAMILY,
    "1937-03-14",
    "14/03/1937",
    "03/14/1937",
    "March 14, 1937",
    "Mar. 14, 1937",
    "CANARYWOOD",
    "Canarywood",
    "canarywood",
    "Canary-narrative-7731",
    "E239999999",
)


@dataclass
class Records:
    check: WellnessCheck
    follow_up: FollowUp


def canary_input(world: World) -> CheckInput:
    received = recent(90)
    return CheckInput(
        unit_id=world.unit_a.pk,
        received_at=received,
        incident_number="E239999999",
        initiator="family",
        reasons=("dementia",),
        address=CANARY_ADDRESS,
        triage="attend",
        triage_rationale="Canary-narrative-7731 risk reported.",
        dispatched_at=received + dt.timedelta(minutes=2),
        arrived_at=received + dt.timedelta(minutes=10),
        cleared_at=received + dt.timedelta(minutes=30),
        outcome="resources_offered",
        narrative=CANARY_NARRATIVE,
        person=PersonInput(
            given_name=CANARY_GIVEN, family_name=CANARY_FAMILY, date_of_birth=CANARY_DOB
        ),
    )


@pytest.fixture
def records(world: World) -> Records:
    """One identified check by officer_a in unit A, with a follow-up assigned to officer_a."""
    check = check_create(actor=world.officer_a, data=canary_input(world))
    follow_up = follow_up_create(
        actor=world.officer_a,
        check=check,
        assigned_to=world.officer_a,
        due_on=dt.date.today() + dt.timedelta(days=3),
        task="Call back",
    )
    return Records(check=check, follow_up=follow_up)


def client_for(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client
