"""Break the glass: time-limited, flagged, notified, reviewed; the door lets it through."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from wellcheck.accounts.breakglass import break_glass_open, break_glass_review, review_queue
from wellcheck.accounts.models_access import BreakGlassAccess, Notification
from wellcheck.accounts.permissions import Action
from wellcheck.audit.models import AuditEvent
from wellcheck.checks.models import WellnessCheck
from wellcheck.people.models import Person
from wellcheck.testing.personas import World

from .conftest import Records, client_for

REASON = "Caller reports the person missing near the river tonight"


def sees(user: object, check: WellnessCheck, action: Action = Action.CHECK_VIEW_IDENTITY) -> bool:
    return WellnessCheck.objects.restrict(user, action).filter(pk=check.pk).exists()


def test_break_the_glass_opens_for_an_hour_notifies_and_queues(
    world: World, records: Records
) -> None:
    check = records.check
    assert not sees(world.officer_b, check)  # before: unit B cannot see a unit A record
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        access = break_glass_open(
            actor=world.officer_b,
            check_id=check.pk,
            reason_code="missing_person",
            reason_text=REASON,
        )
        assert sees(world.officer_b, check)
        assert sees(world.officer_b, check, Action.CHECK_VIEW)
        person_id = check.detail.person_id
        assert (
            Person.objects.restrict(world.officer_b, Action.PERSON_VIEW)
            .filter(pk=person_id)
            .exists()
        )
        # Read actions only: the emergency gives no right to change the record.
        assert not sees(world.officer_b, check, Action.CHECK_EDIT)
        # Nobody else gains anything.
        assert not sees(world.officer_a2, check, Action.CHECK_EDIT)
        assert not sees(world.other_agency_officer, check)
        # Time-limited: 60 minutes.
        clock.move_to(start + dt.timedelta(minutes=59))
        assert sees(world.officer_b, check)
        clock.move_to(start + dt.timedelta(minutes=61))
        assert not sees(world.officer_b, check)
    assert access.expires_at - access.started_at == dt.timedelta(minutes=60)
    # Notified: officer_b's unit supervisor (and the district's, if any) and the privacy officer.
    notified = set(Notification.objects.values_list("recipient__username", flat=True))
    assert notified == {"supervisor_b", "records"}
    note = Notification.objects.get(recipient=world.records)
    assert "officer_b" in note.message and str(check.pk)[:8] in note.message
    assert "Quillborne" not in note.message and REASON not in note.message
    # Flagged in the trail, with the reason and the recipients.
    event = AuditEvent.objects.get(event_type="break_glass.opened", outcome="success")
    assert event.target_id == str(check.pk) and event.details["flagged"] is True
    assert REASON in event.reason and sorted(event.recipients) == [
        "records (records)",
        "supervisor_b (supervisor)",
    ]
    # In the privacy officer's review queue until reviewed.
    assert [a.pk for a in review_queue(world.records)] == [access.pk]
    assert review_queue(world.officer_a) == []
    with pytest.raises(ValidationError):
        break_glass_review(actor=world.officer_b, access_id=access.pk, finding="justified", note="")
    break_glass_review(
        actor=world.records, access_id=access.pk, finding="justified", note="Confirmed"
    )
    assert review_queue(world.records) == []
    assert AuditEvent.objects.filter(
        event_type="break_glass.reviewed", actor_id=world.records.pk
    ).exists()


def test_refusals_are_audited_and_grant_nothing(world: World, records: Records) -> None:
    for actor, kwargs in [
        (world.analyst, {"reason_code": "life_at_risk", "reason_text": REASON}),
        (world.officer_b, {"reason_code": "life_at_risk", "reason_text": "short"}),
        (world.officer_b, {"reason_code": "bogus", "reason_text": REASON}),
        (world.other_agency_officer, {"reason_code": "life_at_risk", "reason_text": REASON}),
    ]:
        with pytest.raises(ValidationError):
            break_glass_open(actor=actor, check_id=records.check.pk, **kwargs)
    assert not BreakGlassAccess.objects.exists()
    assert not Notification.objects.exists()
    assert (
        AuditEvent.objects.filter(event_type="break_glass.opened", outcome="failure").count() == 4
    )
    assert not sees(world.other_agency_officer, records.check)


def test_break_the_glass_through_the_pages(world: World, records: Records) -> None:
    officer_b = client_for(world.officer_b)
    detail = f"/checks/{records.check.pk}/"
    assert officer_b.get(detail).status_code == 404
    response = officer_b.post(
        "/accounts/break-glass/",
        {"check_id": str(records.check.pk), "reason_code": "life_at_risk", "reason_text": REASON},
    )
    assert response.status_code == 302 and response["Location"] == detail
    page = officer_b.get(detail)
    assert page.status_code == 200
    assert AuditEvent.objects.filter(
        event_type="check.viewed", actor_id=world.officer_b.pk
    ).exists()
    # The notification shows on the supervisor's pages; the review item on the privacy officer's.
    supervisor = client_for(world.supervisor_b)
    assert "Notifications (1)" in supervisor.get("/").content.decode()
    assert "officer_b" in supervisor.get("/accounts/notifications/").content.decode()
    queue = client_for(world.records).get("/accounts/break-glass/review/").content.decode()
    assert "officer_b" in queue and REASON in queue
    assert client_for(world.officer_a).get("/accounts/break-glass/review/").status_code == 403
    assert Client().get("/accounts/break-glass/").status_code == 302
