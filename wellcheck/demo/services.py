"""Seeding the demo agency. One service, one transaction: either the whole demo is written, with
an audit event for every user and check (through the ordinary services), or nothing is.

Idempotent: an agency with the demo slug means the demo is already there, and nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from wellcheck.accounts.models import Agency, RecordPolicy, Unit, UnitKind, User
from wellcheck.accounts.permissions import Role
from wellcheck.accounts.services import user_create
from wellcheck.checks.inputs import CheckInput, ConsentInput, PersonInput
from wellcheck.checks.models import CheckState, ReviewDecision, Source, WellnessCheck
from wellcheck.checks.services import (
    check_create,
    check_mark_mental_health,
    check_review,
    check_submit,
)
from wellcheck.demo import dispatch
from wellcheck.demo.people import FICTIONAL_PERSONS, OUTCOME_FOR_STORY, RETURN_NOTE, STORIES

DEMO_SLUG = "sd-demo"
DEMO_NAME = "San Diego demo (real dispatch data)"
DEMO_PASSWORD = "demo-wellcheck-2026"  # noqa: S105  (a published demo password, by design)

# username -> (role, division code or None, first name, last name, badge)
DEMO_USERS: dict[str, tuple[str, str | None, str, str, str]] = {
    "officer": (Role.OFFICER, "CENTRAL", "Olivia", "Officer", "5101"),
    "officer2": (Role.OFFICER, "WESTERN", "Owen", "Officer", "6101"),
    "supervisor": (Role.SUPERVISOR, "CENTRAL", "Sam", "Supervisor", "5001"),
    "analyst": (Role.ANALYST, None, "Ana", "Analyst", ""),
    "records": (Role.RECORDS, None, "Rene", "Records", ""),
    "auditor": (Role.AUDITOR, None, "Aude", "Auditor", ""),
    "admin": (Role.ADMIN, None, "Adi", "Admin", ""),
    "partner": (Role.PARTNER, None, "Pat", "Partner", ""),
}

# States of the Central division's person checks, in order (16), and of the Western ones (4).
CENTRAL_STATES = (
    [CheckState.APPROVED] * 5
    + [CheckState.SUBMITTED] * 4
    + [CheckState.RETURNED] * 3
    + [CheckState.DRAFT] * 4
)
WESTERN_STATES = [CheckState.DRAFT] * 2 + [CheckState.SUBMITTED] * 2
MARK_MH_EVERY = 20  # every 20th dispatch-only check of a division is marked mental-health related


@dataclass
class DemoSummary:
    created: bool
    agency: Agency
    checks: int = 0
    persons: int = 0
    states: dict[str, int] = field(default_factory=dict)
    logins: list[tuple[str, str, str]] = field(default_factory=list)


def _logins() -> list[tuple[str, str, str]]:
    return [(name, spec[0], DEMO_PASSWORD) for name, spec in DEMO_USERS.items()]


def _summary(agency: Agency, *, created: bool) -> DemoSummary:
    checks = WellnessCheck.objects.filter(agency=agency)
    states: dict[str, int] = {}
    for state in checks.values_list("state", flat=True):
        states[state] = states.get(state, 0) + 1
    return DemoSummary(
        created=created,
        agency=agency,
        checks=checks.count(),
        persons=agency.persons.count(),
        states=states,
        logins=_logins(),
    )


def _units(agency: Agency) -> dict[str, Unit]:
    units: dict[str, Unit] = {}
    for code, name in dispatch.DIVISIONS.values():
        units[code] = Unit.objects.create(
            agency=agency, code=code, name=name, kind=UnitKind.DISTRICT
        )
    for beat, neighbourhood in sorted(dispatch.read_beats().items()):
        parent = units[dispatch.DIVISIONS[beat[0]][0]]
        units[beat] = Unit.objects.create(
            agency=agency, code=beat, name=neighbourhood, kind=UnitKind.BEAT, parent=parent
        )
    return units


def _users(agency: Agency, units: dict[str, Unit]) -> dict[str, User]:
    return {
        username: user_create(
            actor=None,
            agency=agency,
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            unit=units[division] if division else None,
            first_name=first,
            last_name=last,
            badge_number=badge,
        )
        for username, (role, division, first, last, badge) in DEMO_USERS.items()
    }


def _person_input(call: dispatch.DispatchCall, unit: Unit, n: int) -> CheckInput:
    given, family, born, alias = FICTIONAL_PERSONS[n]
    initiator, reasons, observed, referrals, story = STORIES[n % len(STORIES)]
    return CheckInput(
        unit_id=unit.pk,
        received_at=call.received_at,
        incident_number=call.incident_number,
        initiator=initiator,
        reasons=reasons,
        address=call.address,
        triage="attend",
        triage_rationale="Made-up demo rationale: concern for the person's safety.",
        caller_told=True,
        observed=observed,
        outcome=OUTCOME_FOR_STORY[n % len(OUTCOME_FOR_STORY)],
        referrals=referrals,
        mental_health_related="mental_health" in reasons or "suicide_risk" in reasons,
        narrative=f"Made-up demo narrative (the person is fictional): {story}.",
        person=PersonInput(
            given_name=given,
            family_name=family,
            date_of_birth=born,
            aliases=(alias,) if alias else (),
        ),
        consent=ConsentInput(scopes=("ongoing_support",), method="verbal"),
    )


def _dispatch_input(call: dispatch.DispatchCall, unit: Unit) -> CheckInput:
    return CheckInput(
        unit_id=unit.pk,
        received_at=call.received_at,
        incident_number=call.incident_number,
        address=call.address,
        triage=call.triage,
        outcome=call.outcome,
    )


def _advance(check: WellnessCheck, state: str, users: dict[str, User], author: User) -> None:
    if state == CheckState.DRAFT:
        return
    check = check_submit(actor=author, check=check)
    reviewer = users["supervisor"]
    if state == CheckState.APPROVED:
        check_review(actor=reviewer, check=check, decision=ReviewDecision.APPROVED)
    elif state == CheckState.RETURNED:
        check_review(
            actor=reviewer, check=check, decision=ReviewDecision.RETURNED, note=RETURN_NOTE
        )


@transaction.atomic
def demo_seed() -> DemoSummary:
    """Create the demo agency, its units, one login per role and the checks; or, if the demo agency
    exists, change nothing and describe it."""
    existing = Agency.objects.filter(slug=DEMO_SLUG).first()
    if existing is not None:
        return _summary(existing, created=False)
    agency = Agency.objects.create(name=DEMO_NAME, slug=DEMO_SLUG, record_policy=RecordPolicy.FULL)
    units = _units(agency)
    users = _users(agency, units)
    author = {"CENTRAL": users["officer"], "WESTERN": users["officer2"]}
    plan = {"CENTRAL": list(CENTRAL_STATES), "WESTERN": list(WESTERN_STATES)}
    dispatch_only = {"CENTRAL": 0, "WESTERN": 0}
    persons_used = 0
    for call in dispatch.read_calls():
        unit, division = units[call.beat], call.division
        officer = author[division]
        if call.disposition == "K" and plan[division]:
            state = plan[division].pop(0)
            check = check_create(
                actor=officer, data=_person_input(call, unit, persons_used), source=Source.IMPORTED
            )
            persons_used += 1
            _advance(check, state, users, officer)
            continue
        check = check_create(
            actor=officer,
            data=_dispatch_input(call, unit),
            state=CheckState.IMPORTED,
            source=Source.IMPORTED,
        )
        dispatch_only[division] += 1
        if dispatch_only[division] % MARK_MH_EVERY == 0:
            check_mark_mental_health(actor=officer, check=check, related=True)
    return _summary(agency, created=True)
