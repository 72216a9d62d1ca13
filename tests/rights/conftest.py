"""A fresh key set for each test session (shared fixtures), and this folder's own fixtures."""

from __future__ import annotations

import pytest

from wellcheck.crypto.testing import _session_keys, key_dir  # noqa: F401  (fixtures)


@pytest.fixture
def subject(world):  # type: ignore[no-untyped-def]
    """A person with four checks: two open records, one restricted, one sealed; a follow-up,
    consent, health segments, a disclosure and a supervisor's read. Another person beside them."""
    import datetime as dt

    from django.utils import timezone

    from wellcheck.audit.events import EventType
    from wellcheck.audit.services import audit_record
    from wellcheck.checks.models import CheckDetail, FollowUp
    from wellcheck.crypto.testing import Canary, record_check
    from wellcheck.people.models import Person
    from wellcheck.retention.health import health_authority_record, health_segment_record
    from wellcheck.retention.protection import record_restrict, record_seal

    canary = Canary()
    checks = []
    first_person = None
    for i, narrative in enumerate(
        ["First check narrative", "Second check narrative", "Restricted narrative", "Sealed one"]
    ):
        check, detail, person = record_check(
            world,
            given=canary.given,
            family=canary.family,
            birth=canary.birth,
            narrative=narrative,
            address=f"{10 + i} CANARY ROW",
            consent=i == 0,
            minutes_ago=200 - i * 10,
        )
        if first_person is None:
            first_person = person
        else:
            detail.person = first_person
            detail.save()  # re-encrypted under the first person's key
            Person.objects.filter(pk=person.pk).delete()
        checks.append(check)
    FollowUp.objects.create(
        check_record=checks[0],
        assigned_to=world.officer_a,
        due_on=dt.date(2026, 12, 1),
        task="Call the family back",
        created_by=world.officer_a,
    )
    audit_record(
        actor=world.supervisor_a,
        event_type=EventType.CHECK_VIEWED,
        target=checks[0],
        reason="Supervisor review",
    )
    audit_record(
        actor=world.records,
        event_type=EventType.EXPORT,
        target=checks[1],
        recipients=["Adult Protective Services"],
        reason="Referral",
    )
    part2 = health_segment_record(
        actor=world.officer_a,
        check=checks[1],
        tag="cfr42_part2",
        source="Programme X",
        content="Part 2 programme record",
    )
    note = health_segment_record(
        actor=world.officer_a,
        check=checks[0],
        tag="hipaa_clinician",
        source="Clinician Y",
        content="Clinician note for subject",
    )
    health_authority_record(
        actor=world.records,
        segment=note,
        kind="consent",
        reference="Signed 2026-11-01",
        recipient="data subject",
    )
    record_restrict(actor=world.records, check=checks[2], reason="Evidence in case 9")
    record_seal(actor=world.records, check=checks[3], reason="Court order 5")
    other, _, _ = record_check(world, given="Other", family="Neighbour", narrative="Not theirs")
    assert CheckDetail.objects.filter(person=first_person).count() == 2
    return {
        "person": first_person,
        "checks": checks,
        "other": other,
        "canary": canary,
        "part2": part2,
        "note": note,
        "now": timezone.now(),
    }
