"""Every audit event type of the product's flows is asserted by a test (issue 4, "what must hold").

The flows below are the ones no other test file asserted an event for. Each one runs the real
service or page and checks, with :func:`assert_audited` and a mark taken just before the action,
that *this* action left *its* event (type, actor, target, outcome) and nothing sensitive in it.

``test_every_event_type_is_asserted_somewhere`` keeps it that way: a new event type without an
assertion in some test fails the suite.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from wellcheck.accounts.mfa import recovery_codes_issue
from wellcheck.accounts.services import token_issue
from wellcheck.administration.services import agency_set_consent_period
from wellcheck.audit.archive import archive_events
from wellcheck.audit.checkpoints import checkpoint_create
from wellcheck.audit.events import EventType
from wellcheck.audit.models import AuditArchive
from wellcheck.audit.services import audit_record
from wellcheck.checks.inputs import ConsentInput
from wellcheck.checks.models import FollowUp, RecordMode, WellnessCheck
from wellcheck.checks.services import (
    check_outcome_review,
    follow_up_complete,
    follow_up_create,
)
from wellcheck.crypto.testing import record_check
from wellcheck.people.models import Consent, Person
from wellcheck.people.services import consent_lapse_sweep, consent_record, consent_withdraw
from wellcheck.retention.health import health_authority_record, health_segment_record
from wellcheck.retention.models import HealthTag
from wellcheck.testing.audit_asserts import (
    assert_audited,
    assert_chain_intact,
    assert_not_audited,
    audit_mark,
)
from wellcheck.testing.personas import PASSWORD, World

TESTS = Path(__file__).resolve().parents[1]


def _no_plaintext(event: Any, *needles: str) -> None:
    blob = f"{event.changes} {event.details} {event.reason} {event.recipients}".lower()
    for needle in needles:
        assert needle.lower() not in blob, f"{needle!r} leaked into {event.event_type}"


# --- follow-ups and outcome review (accountability) ---------------------------------------


def test_follow_up_created_and_completed_are_audited(world: World) -> None:
    check, _, _ = record_check(world)
    mark = audit_mark()
    follow_up = follow_up_create(
        actor=world.supervisor_a,
        check=check,
        assigned_to=world.officer_a,
        due_on=dt.date.today() + dt.timedelta(days=7),
        task="Call the daughter back.",
    )
    created = assert_audited(
        EventType.FOLLOW_UP_CREATED, target=check, actor=world.supervisor_a, after=mark, count=1
    )
    assert created.details["follow_up"] == follow_up.pk
    assert created.details["assigned_to"] == world.officer_a.pk
    _no_plaintext(created, "daughter")  # the task text stays in its table

    mark = audit_mark()
    follow_up_complete(actor=world.officer_a, follow_up=follow_up, result="Spoke to her; fine.")
    assert FollowUp.objects.get(pk=follow_up.pk).completed_at is not None
    done = assert_audited(
        EventType.FOLLOW_UP_COMPLETED, target=check, actor=world.officer_a, after=mark, count=1
    )
    _no_plaintext(done, "spoke to her")
    assert_chain_intact()


def test_outcome_review_is_audited_with_from_and_to(world: World) -> None:
    check, _, _ = record_check(world)
    mark = audit_mark()
    check_outcome_review(actor=world.supervisor_a, check=check, result="further_action")
    event = assert_audited(
        EventType.OUTCOME_REVIEWED, target=check, actor=world.supervisor_a, after=mark, count=1
    )
    assert event.changes == {"outcome_review": {"from": None, "to": "further_action"}}
    mark = audit_mark()
    check_outcome_review(actor=world.supervisor_a, check=check, result="successful")
    again = assert_audited(EventType.OUTCOME_REVIEWED, target=check, after=mark, count=1)
    assert again.changes["outcome_review"] == {"from": "further_action", "to": "successful"}


def test_a_refused_follow_up_leaves_no_event(world: World) -> None:
    from wellcheck.core.errors import ServiceError

    check, _, _ = record_check(world)
    mark = audit_mark()
    with pytest.raises(ServiceError):
        follow_up_create(
            actor=world.supervisor_a,
            check=check,
            assigned_to=world.other_agency_officer,
            due_on=dt.date.today(),
            task="x",
        )
    assert_not_audited(EventType.FOLLOW_UP_CREATED, after=mark)


# --- consent and the "no record" policy ---------------------------------------------------


def test_consent_recorded_and_lapsed_then_person_deidentified(consent_world: World) -> None:
    world = consent_world
    check, _, person = record_check(world, consent=True)
    assert_audited(EventType.CONSENT_RECORDED, target=person, actor=world.officer_a)

    mark = audit_mark()
    consent_record(
        actor=world.officer_a,
        person=person,
        consent=ConsentInput(scopes=("ongoing_support",), method="verbal"),
    )
    renewed = assert_audited(
        EventType.CONSENT_RECORDED, target=person, actor=world.officer_a, after=mark, count=1
    )
    assert renewed.details["scope"] == "ongoing_support"

    mark = audit_mark()
    later = timezone.now() + dt.timedelta(days=400)
    assert consent_lapse_sweep(now=later) == 1
    assert_audited(EventType.CONSENT_LAPSED, target=person, after=mark)
    deidentified = assert_audited(
        EventType.CHECK_DEIDENTIFIED, target=check, after=mark, count=1, outcome="success"
    )
    assert deidentified.actor_id is None and deidentified.component == "job"
    assert_audited(
        EventType.CHECK_DEIDENTIFIED,
        target_type="people.person",
        target_id=str(person.pk),
        after=mark,
        count=1,
    )
    assert WellnessCheck.objects.get(pk=check.pk).record_mode == RecordMode.TALLY
    assert not Person.objects.filter(pk=person.pk).exists()
    assert_chain_intact()


def test_withdrawal_deidentifies_with_the_actor_named(consent_world: World) -> None:
    world = consent_world
    check, _, person = record_check(world, consent=True)
    consent = Consent.objects.filter(person=person, scope="ongoing_support").get()
    mark = audit_mark()
    assert consent_withdraw(actor=world.officer_a, consent=consent) is True
    assert_audited(EventType.CONSENT_WITHDRAWN, target=person, actor=world.officer_a, after=mark)
    event = assert_audited(
        EventType.CHECK_DEIDENTIFIED, target=check, actor=world.officer_a, after=mark, count=1
    )
    _no_plaintext(event, "smith", "john", "main st")


# --- health segments ----------------------------------------------------------------------


def test_health_segment_and_its_authority_are_audited_without_content(world: World) -> None:
    check, _, person = record_check(world)
    mark = audit_mark()
    segment = health_segment_record(
        actor=world.officer_a,
        check=check,
        tag=HealthTag.CLINICIAN_NOTE,
        source="Crisis clinician",
        content="Takes lithium; history of overdose",
    )
    recorded = assert_audited(
        EventType.HEALTH_SEGMENT_RECORDED, actor=world.officer_a, after=mark, count=1
    )
    _no_plaintext(recorded, "lithium", "overdose")
    mark = audit_mark()
    health_authority_record(
        actor=world.records,
        segment=segment,
        kind="consent",
        reference="Signed form 12",
        recipient="County crisis team",
    )
    authority = assert_audited(
        EventType.HEALTH_AUTHORITY_RECORDED, actor=world.records, after=mark, count=1
    )
    _no_plaintext(authority, "lithium")
    assert person.pk  # the segment belongs to the person of the check


# --- accounts: tokens, passwords, recovery codes -----------------------------------------


def test_token_issue_is_audited_without_the_token(world: World) -> None:
    mark = audit_mark()
    token, raw = token_issue(actor=world.admin, user=world.analyst, name="analysis")
    event = assert_audited(
        EventType.TOKEN_ISSUED, target=world.analyst, actor=world.admin, after=mark, count=1
    )
    assert event.details["token"] == token.prefix and event.component == "web"
    _no_plaintext(event, raw)


def test_recovery_codes_issue_is_audited_without_the_codes(world: World) -> None:
    mark = audit_mark()
    codes = recovery_codes_issue(user=world.officer_a)
    event = assert_audited(
        EventType.RECOVERY_CODES_ISSUED,
        target=world.officer_a,
        actor=world.officer_a,
        after=mark,
        count=1,
    )
    assert event.details == {"count": len(codes)}
    _no_plaintext(event, *codes)


def _signed_in(username: str) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    return client


def test_password_change_is_audited(world: World) -> None:
    client = _signed_in("officer_b")
    mark = audit_mark()
    new = "Quiet-Harbour-Lantern-2026"
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302, response.content[:500]
    event = assert_audited(
        EventType.PASSWORD_CHANGED,
        target=world.officer_b,
        actor=world.officer_b,
        after=mark,
        count=1,
    )
    _no_plaintext(event, new, PASSWORD)
    # a wrong old password changes nothing and writes no such event
    mark = audit_mark()
    client.post(
        "/accounts/password/",
        {"old_password": "not-it", "new_password1": new + "x", "new_password2": new + "x"},
    )
    assert_not_audited(EventType.PASSWORD_CHANGED, after=mark)


def test_password_reset_request_and_completion_are_audited(world: World) -> None:
    world.officer_a.email = "officer_a@example.org"
    world.officer_a.save(update_fields=["email"])
    mark = audit_mark()
    response = Client().post("/accounts/password/reset/", {"email": "officer_a@example.org"})
    assert response.status_code == 302
    requested = assert_audited(EventType.PASSWORD_RESET_REQUESTED, after=mark, count=1)
    assert requested.actor_id is None
    _no_plaintext(requested, "officer_a@example.org")

    uid = urlsafe_base64_encode(force_bytes(world.officer_a.pk))
    token = default_token_generator.make_token(world.officer_a)
    client = Client()
    first = client.get(f"/accounts/password/reset/{uid}/{token}/")
    assert first.status_code == 302  # Django moves the token into the session
    new = "Granite-Meadow-Compass-2026"
    mark = audit_mark()
    done = client.post(first["Location"], {"new_password1": new, "new_password2": new})
    assert done.status_code == 302, done.content[:500]
    event = assert_audited(
        EventType.PASSWORD_RESET_DONE,
        target=world.officer_a,
        actor=world.officer_a,
        after=mark,
        count=1,
    )
    _no_plaintext(event, new, token)


# --- agency settings ---------------------------------------------------------------------


def test_agency_settings_change_is_audited_only_when_something_changed(world: World) -> None:
    mark = audit_mark()
    agency_set_consent_period(actor=world.admin, agency=world.agency, days=180)
    event = assert_audited(
        EventType.AGENCY_SETTINGS_CHANGED, target=world.agency, actor=world.admin, after=mark
    )
    assert event.changes["consent_valid_days"]["to"] == 180
    mark = audit_mark()
    agency_set_consent_period(actor=world.admin, agency=world.agency, days=180)
    assert_not_audited(EventType.AGENCY_SETTINGS_CHANGED, after=mark)


# --- keys and the audit archive (command line) --------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_keys_rotate_and_retire_are_audited() -> None:
    from wellcheck.testing.personas import make_world

    world = make_world(slug="keyspd")
    record_check(world)
    mark = audit_mark()
    call_command("keys", "rotate", "--data-keys", "global")
    rotated = assert_audited(EventType.KEYS_ROTATED, after=mark, count=1)
    assert rotated.component == "cli" and rotated.details["new_kek"].startswith("kek-")
    mark = audit_mark()
    call_command("keys", "retire")
    retired = assert_audited(EventType.KEK_RETIRED, after=mark, count=1)
    assert isinstance(retired.details["kek_destroyed"], list)
    assert_chain_intact()


def test_audit_archive_is_itself_audited(db: None, tmp_path: Path) -> None:
    import time_machine

    with time_machine.travel(dt.datetime(2024, 1, 1, tzinfo=dt.UTC), tick=True):
        for i in range(4):
            audit_record(actor=None, event_type=EventType.CHECK_LISTED, details={"i": i})
        assert checkpoint_create() is not None
    audit_record(actor=None, event_type=EventType.CHECK_LISTED)
    mark = audit_mark()
    record = archive_events(directory=tmp_path)
    assert record is not None
    event = assert_audited(
        EventType.AUDIT_ARCHIVED,
        target_type=AuditArchive._meta.label_lower,
        target_id=str(record.pk),
        after=mark,
        count=1,
    )
    assert (event.details["first_seq"], event.details["last_seq"]) == (1, record.last_seq)
    assert_chain_intact()


# --- refused access (CJIS 5.4.1.1: unsuccessful attempts) -------------------------------


def test_a_record_outside_scope_answers_404_and_the_attempt_is_audited(world: World) -> None:
    check, _, _ = record_check(world)  # officer_a's beat
    client = _signed_in("officer_b")  # another beat
    mark = audit_mark()
    response = client.get(f"/checks/{check.pk}/?q=John+Smith")
    assert response.status_code == 404
    event = assert_audited(
        EventType.ACCESS_DENIED, actor=world.officer_b, outcome="failure", after=mark, count=1
    )
    assert event.details == {"method": "GET", "path": f"/checks/{check.pk}/", "status": 404}
    assert event.component == "web"
    _no_plaintext(event, "john", "smith")  # the query string is never written
    assert_not_audited(EventType.CHECK_VIEWED, after=mark)
    # a path that matches no route (a browser's favicon request, a typo) is not an attempt
    mark = audit_mark()
    assert client.get("/favicon.ico").status_code == 404
    assert client.get("/no-such-page/").status_code == 404
    assert_not_audited(EventType.ACCESS_DENIED, after=mark)
    # the owner's read is not a refusal
    mark = audit_mark()
    assert _signed_in("officer_a").get(f"/checks/{check.pk}/").status_code in (200, 302)
    assert_not_audited(EventType.ACCESS_DENIED, after=mark)


def test_api_refusal_is_audited_with_the_token_actor(world: World) -> None:
    check, _, _ = record_check(world)
    _, raw = token_issue(actor=None, user=world.officer_b, name="script")
    mark = audit_mark()
    response = Client().get(f"/api/v1/checks/{check.pk}/", HTTP_AUTHORIZATION=f"Token {raw}")
    assert response.status_code == 404
    event = assert_audited(
        EventType.ACCESS_DENIED, actor=world.officer_b, outcome="failure", after=mark, count=1
    )
    assert event.component == "api" and event.details["status"] == 404


def test_anonymous_requests_write_no_refusal(world: World) -> None:
    check, _, _ = record_check(world)
    mark = audit_mark()
    assert Client().get(f"/api/v1/checks/{check.pk}/").status_code in (401, 403)
    assert Client().get("/no-such-page/").status_code in (302, 404)
    assert_not_audited(EventType.ACCESS_DENIED, after=mark)


def test_probing_for_records_shows_in_the_unusual_access_report(world: World) -> None:
    from wellcheck.audit.unusual import REFUSED_MAX, find_unusual

    check, _, _ = record_check(world)
    prober = _signed_in("officer_b")
    for _ in range(REFUSED_MAX - 1):
        assert prober.get(f"/checks/{check.pk}/").status_code == 404
    start = timezone.now() - dt.timedelta(hours=1)

    def refused_findings() -> list[dict[str, Any]]:
        end = timezone.now() + dt.timedelta(minutes=1)
        findings = find_unusual(agency_id=world.agency.pk, start=start, end=end)
        return [f for f in findings if f["rule"] == "refused"]

    assert refused_findings() == []  # below the threshold
    assert prober.get(f"/api/v1/checks/{check.pk}/").status_code == 404
    (finding,) = refused_findings()
    assert finding["actor_id"] == world.officer_b.pk and finding["count"] == REFUSED_MAX
    assert len(finding["seqs"]) == REFUSED_MAX


# --- the guard ----------------------------------------------------------------------------

# An assertion about an event type in a test: assert_audited(...) / assert_not_audited(...), or
# a query of the trail by type (AuditEvent.objects.get/filter(event_type=...), which the test
# then asserts on). Events a fixture *writes* (audit_record(..., event_type=...)) do not count.
_ASSERTED = re.compile(
    r"assert_(?:not_)?audited\(\s*(EventType\.\w+|\"[^\"]+\")"
    r"|AuditEvent\.objects\.(?:get|filter)\([^)]*?event_type=(EventType\.\w+|\"[^\"]+\")",
    re.S,
)


def _asserted_types() -> set[str]:
    found: set[str] = set()
    for path in TESTS.rglob("test_*.py"):
        for match in _ASSERTED.finditer(path.read_text()):
            token = match.group(1) or match.group(2)
            if token.startswith("EventType."):
                found.add(str(getattr(EventType, token.split(".", 1)[1])))
            else:
                found.add(token.strip('"'))
    return found


def _emitted_types() -> set[str]:
    """Event types the product's code writes (``EventType.X`` outside the enum's own module)."""
    code = TESTS.parent / "wellcheck"
    names: set[str] = set()
    for path in code.rglob("*.py"):
        if path.name == "events.py" or "testing" in path.parts:
            continue
        names.update(re.findall(r"EventType\.([A-Z_]+)\b", path.read_text()))
    return {str(getattr(EventType, name)) for name in names}


def test_every_event_type_is_asserted_somewhere() -> None:
    asserted = _asserted_types()
    emitted = _emitted_types()
    assert len(emitted) > 50, emitted  # the scan found the code
    missing = sorted(emitted - asserted)
    assert not missing, f"event types no test asserts: {missing}"
    unknown = sorted(asserted - set(EventType.values))
    assert not unknown, f"tests assert event types that do not exist: {unknown}"
