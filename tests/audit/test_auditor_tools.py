"""The auditor's tools: search, export, a person's readers, unusual access; all audited."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.test import Client
from django.utils import timezone

from wellcheck.audit.events import EventType
from wellcheck.audit.models import AuditEvent, UnusualAccessReport
from wellcheck.audit.services import audit_record
from wellcheck.audit.unusual import VOLUME_MIN_READS, find_unusual
from wellcheck.checks.inputs import CheckInput, PersonInput
from wellcheck.checks.models import CheckDetail, WellnessCheck
from wellcheck.checks.services import check_create
from wellcheck.testing.audit_asserts import assert_audited, assert_chain_intact, audit_mark
from wellcheck.testing.personas import World, recent


def client_for(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def make_check(
    world: World, *, unit_id: int | None = None, family: str = "Testperson"
) -> WellnessCheck:
    data = CheckInput(
        unit_id=unit_id or world.unit_a.pk,
        received_at=recent(60),
        initiator="family",
        reasons=("dementia",),
        triage="attend",
        person=PersonInput(given_name="Ada", family_name=family),
    )
    creator = world.officer_b if unit_id == world.unit_b.pk else world.officer_a
    return check_create(actor=creator, data=data)


def read(world_user: object, check: WellnessCheck, reason: str = "follow-up") -> AuditEvent:
    return audit_record(
        actor=world_user, event_type=EventType.CHECK_VIEWED, target=check, reason=reason
    )


def test_only_the_auditor_reads_the_trail(world: World) -> None:
    assert client_for(world.auditor).get("/audit/").status_code == 200
    for persona in (world.officer_a, world.supervisor_a, world.admin, world.records):
        assert client_for(persona).get("/audit/").status_code == 403
        assert client_for(persona).get("/audit/export.csv").status_code == 403
    assert Client().get("/audit/").status_code == 302  # to sign-in


def test_search_by_actor_target_type_and_time_is_itself_audited(world: World) -> None:
    check = make_check(world)
    mine = read(world.officer_a, check)
    read(world.officer_b, check)
    mark = audit_mark()
    today = timezone.now().date().isoformat()
    response = client_for(world.auditor).get(
        "/audit/",
        {
            "actor": "officer_a",
            "target": str(check.pk),
            "event_type": "check.viewed",
            "since": today,
            "until": today,
        },
    )
    assert response.status_code == 200
    assert [e.seq for e in response.context["events"]] == [mine.seq]
    event = assert_audited(EventType.AUDIT_READ, actor=world.auditor, after=mark, count=1)
    assert event.details["filters"]["actor"] == "officer_a"


def test_bad_filter_is_named(world: World) -> None:
    response = client_for(world.auditor).get("/audit/", {"since": "yesterday"})
    assert response.status_code == 400
    assert "since" in response.context["errors"]


def test_other_agencies_events_are_not_shown(world: World) -> None:
    other = audit_record(actor=world.other_agency_officer, event_type=EventType.CHECK_LISTED)
    response = client_for(world.auditor).get("/audit/")
    assert other.seq not in [e.seq for e in response.context["events"]]
    assert client_for(world.auditor).get(f"/audit/event/?seq={other.seq}").status_code == 404


def test_csv_export_is_an_event_and_neutralises_formulas(world: World) -> None:
    check = make_check(world)
    read(world.officer_a, check, reason="=HYPERLINK(1)")
    mark = audit_mark()
    response = client_for(world.auditor).get("/audit/export.csv", {"event_type": "check.viewed"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["event_type"] for r in rows] == ["check.viewed"]
    assert rows[0]["reason"] == "'=HYPERLINK(1)"
    assert_audited(EventType.AUDIT_EXPORTED, actor=world.auditor, after=mark, count=1)


def test_who_looked_at_this_persons_records(world: World) -> None:
    check = make_check(world)
    other_check = make_check(world, family="Someoneelse")
    detail = CheckDetail.objects.get(check_record=check)
    person_id = detail.person_id
    assert person_id is not None
    looked = read(world.officer_a2, check, reason="welfare follow-up")
    person_read = audit_record(
        actor=world.supervisor_a,
        event_type=EventType.PERSON_VIEWED,
        target_type="people.person",
        target_id=str(person_id),
        reason="review",
    )
    read(world.officer_b, other_check)  # another person's record: not listed
    mark = audit_mark()
    response = client_for(world.auditor).get(f"/audit/person/?id={person_id}")
    assert response.status_code == 200
    seqs = [e.seq for e in response.context["events"]]
    assert seqs == [person_read.seq, looked.seq]
    assert b"welfare follow-up" in response.content and b"Ada" not in response.content
    assert_audited(EventType.AUDIT_READ, actor=world.auditor, target_id=str(person_id), after=mark)


def _reads(actor: object, checks: list[WellnessCheck]) -> list[int]:
    return [read(actor, c).seq for c in checks]


def test_unusual_access_rules_each_find_their_case(world: World) -> None:
    checks_a = [make_check(world) for _ in range(VOLUME_MIN_READS)]
    check_b = make_check(world, unit_id=world.unit_b.pk)
    # volume: officer_a reads 20 records, peers read 1 or 2
    heavy = _reads(world.officer_a, checks_a)
    _reads(world.officer_a2, checks_a[:2])
    _reads(world.officer_b, checks_a[:1])
    # outside unit: officer_b (beat B) read checks of beat A above; supervisor_a reads beat B:
    # supervisor_a's unit is beat A, so beat B is outside
    outside = _reads(world.supervisor_a, [check_b])
    # break the glass three times
    glass = [
        audit_record(actor=world.officer_a2, event_type="break_glass.opened").seq for _ in range(3)
    ]
    # same surname: officer_a2 is called Testperson too and read such a person
    world.officer_a2.last_name = "Testperson"
    world.officer_a2.save(update_fields=["last_name"])
    end = timezone.now() + dt.timedelta(seconds=1)
    findings = find_unusual(agency_id=world.agency.pk, start=end - dt.timedelta(days=1), end=end)
    by_rule = {(f["rule"], f["actor_name"]): f for f in findings}
    assert by_rule[("volume", "officer_a")]["seqs"] == heavy
    assert ("volume", "officer_a2") not in by_rule
    assert by_rule[("outside_unit", "supervisor_a")]["seqs"] == outside
    assert ("outside_unit", "officer_a") not in by_rule
    assert set(by_rule[("outside_unit", "officer_b")]["seqs"]) <= set(
        AuditEvent.objects.filter(actor_id=world.officer_b.pk).values_list("seq", flat=True)
    )
    assert by_rule[("break_glass", "officer_a2")]["seqs"] == glass
    assert ("same_surname", "officer_a2") in by_rule
    assert ("same_surname", "officer_b") not in by_rule


def test_unusual_report_page_links_each_finding_to_its_events(world: World) -> None:
    check_b = make_check(world, unit_id=world.unit_b.pk)
    seq = read(world.officer_a, check_b).seq
    auditor = client_for(world.auditor)
    response = auditor.post("/audit/unusual/", {"days": "1"})
    assert response.status_code == 302
    report = UnusualAccessReport.objects.get()
    page = auditor.get(response["Location"])
    assert page.status_code == 200
    assert f"/audit/event/?seq={seq}".encode() in page.content
    assert f"?seqs={seq}".encode() in page.content
    assert_audited(EventType.AUDIT_READ, actor=world.auditor, target=report)
    assert client_for(world.officer_a).get(response["Location"]).status_code == 403


def test_daily_task_writes_a_report_per_agency(world: World) -> None:
    from wellcheck.audit.tasks import unusual_access_daily

    make_check(world)
    ids = unusual_access_daily.call()
    assert len(ids) == UnusualAccessReport.objects.count() >= 2  # this agency and the other
    assert_chain_intact()


@pytest.mark.parametrize(
    "path", ["/audit/event/?seq=999999", "/audit/unusual/report/?id=999999", "/audit/event/?seq=x"]
)
def test_missing_things_are_404(world: World, path: str) -> None:
    assert client_for(world.auditor).get(path).status_code == 404


def test_the_menu_shows_audit_to_the_auditor_only(world: World) -> None:
    assert b'href="/audit/"' in client_for(world.auditor).get("/audit/").content
    page = client_for(world.officer_a).get("/")
    assert page.status_code == 200 and b'href="/audit/"' not in page.content
