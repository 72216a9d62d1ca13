"""``wellcheck seed-demo``: real San Diego dispatch rows, made-up persons with consent, a login per
role; the packaged slice is what PROVENANCE.md says; running it twice changes nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from wellcheck.accounts.models import Agency, Unit, User
from wellcheck.audit.models import AuditEvent
from wellcheck.checks.models import CheckDetail, CheckReview, WellnessCheck
from wellcheck.demo import dispatch
from wellcheck.demo.services import DEMO_PASSWORD, DEMO_SLUG, DEMO_USERS
from wellcheck.people.models import Consent, Person

SOURCE = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "cfs" / "san_diego"


def table_counts() -> dict[str, int]:
    models = (
        Agency,
        Unit,
        User,
        WellnessCheck,
        CheckDetail,
        CheckReview,
        Person,
        Consent,
        AuditEvent,
    )
    return {m.__name__: m.objects.count() for m in models}


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_slice_is_the_documented_selection_of_the_source() -> None:
    source = SOURCE / "pd_calls_for_service_2023_datasd.csv"
    if not source.exists():
        pytest.skip(f"The shared San Diego data is not beside the clone ({SOURCE}).")
    with source.open(newline="", encoding="utf-8-sig") as fh:
        expected = [
            r
            for r in csv.DictReader(fh)
            if r["call_type"] == "CW"
            and len(r["beat"]) == 3
            and r["beat"][0] in "56"
            and "2023-01-01 00:00:00" <= r["date_time"] < "2023-01-08 00:00:00"
        ]
    with dispatch.CALLS_FILE.open(newline="", encoding="utf-8-sig") as fh:
        packaged = list(csv.DictReader(fh))
    assert len(packaged) == 145 and packaged == expected
    for name in ("pd_beat_codes_list_datasd.csv", "pd_dispo_codes_datasd.csv"):
        assert (dispatch.DATA / name).read_bytes() == (SOURCE / name).read_bytes()
    assert "ODC-PDDL" in (dispatch.DATA / "PROVENANCE.md").read_text()


def test_every_disposition_in_the_slice_is_mapped_and_the_address_is_the_block() -> None:
    calls = dispatch.read_calls()
    assert len(calls) == 142  # 145 rows, 3 duplicates not loaded
    first = calls[0]
    assert first.incident_number == "E23010000099"
    assert first.received_at.astimezone(dt.UTC) == dt.datetime(2023, 1, 1, 8, 54, 26, tzinfo=dt.UTC)
    assert first.address == "TAYLOR ST & HOTEL CIRCLE NORTH"
    assert (
        dispatch.block_address(
            {
                "address_number_primary": "3700",
                "address_dir_primary": "",
                "address_road_primary": "05TH",
                "address_sfx_primary": "AVE",
                "address_dir_intersecting": "",
                "address_road_intersecting": "",
                "address_sfx_intersecting": "",
            }
        )
        == "3700 BLOCK 05TH AVE"
    )
    assert {c.outcome for c in calls if c.disposition == "K"} == {"safe_no_action"}
    assert {c.outcome for c in calls if c.disposition in ("A", "AB")} == {"arrest"}
    assert {c.outcome for c in calls if c.disposition in ("CAN", "W")} == {""}


def test_seed_demo_creates_everything_once(db: None) -> None:
    out = seed()
    agency = Agency.objects.get(slug=DEMO_SLUG)
    assert agency.name == "San Diego demo (real dispatch data)"
    for username in DEMO_USERS:
        assert f"  {username} " in out and DEMO_PASSWORD in out
    # Units: two divisions, their beats named by neighbourhood.
    assert Unit.objects.get(agency=agency, code="521").name == "East Village"
    assert Unit.objects.get(agency=agency, code="611").parent.code == "WESTERN"
    # Logins: one per role, the officer and the supervisor in the same unit.
    users = {u.username: u for u in User.objects.filter(agency=agency)}
    assert set(users) == set(DEMO_USERS)
    assert {u.role for u in users.values()} == {
        "officer",
        "supervisor",
        "analyst",
        "records",
        "auditor",
        "admin",
        "partner",
    }
    assert users["officer"].unit_id == users["supervisor"].unit_id is not None
    assert all(u.check_password(DEMO_PASSWORD) for u in users.values())
    # Checks: every loaded dispatch row, in every state, with its audit event.
    checks = WellnessCheck.objects.filter(agency=agency)
    assert checks.count() == 142
    assert set(checks.values_list("source", flat=True)) == {"imported"}  # all from dispatch
    states = {
        s: checks.filter(state=s).count() for s in ("draft", "submitted", "returned", "approved")
    }
    assert all(n >= 2 for n in states.values()), states
    created = set(
        AuditEvent.objects.filter(event_type="check.created").values_list("target_id", flat=True)
    )
    assert created == {str(pk) for pk in checks.values_list("pk", flat=True)}
    assert AuditEvent.objects.filter(event_type="user.created").count() == len(DEMO_USERS)
    assert AuditEvent.objects.filter(event_type="check.approved").count() == states["approved"]
    returned = CheckReview.objects.filter(decision="returned")
    assert returned.count() == states["returned"] and all(r.note for r in returned)
    # (Found in Python: identifying columns may be encrypted, so not searchable by plaintext.)
    detail = next(
        d
        for d in CheckDetail.objects.select_related("check_record__unit")
        if d.incident_number == "E23010000099"
    )
    assert detail.address == "TAYLOR ST & HOTEL CIRCLE NORTH"
    assert detail.check_record.received_at == dt.datetime(2023, 1, 1, 8, 54, 26, tzinfo=dt.UTC)
    assert detail.check_record.unit.code == "623" and detail.check_record.state == "imported"
    # Made-up persons, each with an active consent to ongoing support.
    persons = Person.objects.filter(agency=agency)
    assert persons.count() == 20
    assert all(p.consents.active().filter(scope="ongoing_support").exists() for p in persons)
    assert "Madeup" in {p.family_name for p in persons}
    assert checks.filter(mental_health_related=True).count() >= 5
    assert AuditEvent.objects.filter(event_type="check.marked_mental_health").count() >= 5
    # The door on demo data: the officer sees the Central division only; officer2 gets 404.
    officer = APIClient()
    officer.force_login(users["officer"])
    listed = officer.get("/api/v1/checks/?limit=200").json()
    central = checks.filter(unit__parent__code="CENTRAL")
    assert listed["count"] == central.count() > 0
    central_id = central.first().pk
    western = APIClient()
    western.force_login(users["officer2"])
    assert western.get(f"/api/v1/checks/{central_id}/").status_code == 404
    assert officer.get(f"/api/v1/checks/{central_id}/?reason=supervision").status_code == 200

    # Second run: nothing changes, not even the audit trail.
    before = table_counts()
    again = seed()
    assert "nothing changed" in again
    assert table_counts() == before
    assert seed("--quiet") == ""
    assert table_counts() == before
