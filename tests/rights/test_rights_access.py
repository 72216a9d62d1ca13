"""A subject access package for a person with several checks is complete, redacts with reasons,
is due one month after receipt, and is produced as JSON and PDF."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.http import Http404

from wellcheck.audit.models import AuditEvent
from wellcheck.rights.models import Redaction, RequestStatus, SubjectAccessRequest
from wellcheck.rights.render import as_json, as_pdf
from wellcheck.rights.services import (
    one_month_after,
    subject_access_answer,
    subject_access_open,
)
from wellcheck.testing.personas import World


def answer(world: World, subject: dict[str, Any], **kw: Any) -> dict[str, Any]:
    sar = subject_access_open(
        actor=world.records,
        person=subject["person"],
        requester="The person, in writing",
        identity_checked="Passport seen",
        received_on=dt.date(2026, 1, 31),
    )
    return subject_access_answer(actor=world.records, request=sar, **kw)


def test_package_is_complete(world: World, subject: dict[str, Any]) -> None:
    pkg = answer(world, subject)
    canary, checks = subject["canary"], subject["checks"]
    assert pkg["person"]["family_name"] == canary.family
    assert pkg["person"]["date_of_birth"] == canary.birth.isoformat()
    assert [c["narrative"] for c in pkg["checks"]] == [
        "First check narrative",
        "Second check narrative",
    ]
    assert {c["check_id"] for c in pkg["checks"]} == {str(checks[0].pk), str(checks[1].pk)}
    assert pkg["checks"][0]["follow_ups"][0]["task"] == "Call the family back"
    assert pkg["checks"][0]["address"] == "10 CANARY ROW"
    assert pkg["checks"][0]["reasons"] == []  # recorded without reason codes
    assert [r["narrative"] for r in pkg["restricted_records"]] == ["Restricted narrative"]
    assert [h["content"] for h in pkg["health_segments"]] == ["Clinician note for subject"]
    assert [c["scope"] for c in pkg["consents"]][0].startswith("Ongoing support")
    assert pkg["recipients"] == [
        {
            "when": pkg["recipients"][0]["when"],
            "recipients": ["Adult Protective Services"],
            "what": "Data exported",
        }
    ]
    assert any(
        w["who"].startswith("supervisor_a") and w["reason"] == "Supervisor review"
        for w in pkg["who_looked"]
    )
    assert {r["check_id"] for r in pkg["retention"]} == {str(checks[0].pk), str(checks[1].pk)}
    assert all(r["review_every_days"] > 0 for r in pkg["retention"])
    assert pkg["purposes"] and len(pkg["rights"]) == 4
    items = {r["item"]: r["reason"] for r in pkg["redactions"]}
    assert f"health_segments[{subject['part2'].pk}]" in items
    assert "42 CFR Part 2" in items[f"health_segments[{subject['part2'].pk}]"]
    assert f"sealed_records[{checks[3].pk}]" in items
    # nothing about anyone else, and the sealed content is not there
    text = json.dumps(pkg)
    assert "Not theirs" not in text and "Neighbour" not in text and "Sealed one" not in text
    assert "Part 2 programme record" not in text


def test_due_in_one_calendar_month_and_answer_is_kept(
    world: World, subject: dict[str, Any]
) -> None:
    assert one_month_after(dt.date(2026, 1, 31)) == dt.date(2026, 2, 28)
    assert one_month_after(dt.date(2026, 12, 15)) == dt.date(2027, 1, 15)
    pkg = answer(
        world, subject, redactions=[("checks[1].narrative", "s.45(4)(b): ongoing inquiry")]
    )
    sar = SubjectAccessRequest.objects.get()
    assert sar.due_on == dt.date(2026, 2, 28) and sar.status == RequestStatus.ANSWERED
    assert pkg["checks"][1]["narrative"] == "[withheld]"
    assert Redaction.objects.filter(item="checks[1].narrative").get().reason.startswith("s.45(4)")
    assert sar.answer["checks"][1]["narrative"] == "[withheld]"  # stored, encrypted
    event = AuditEvent.objects.get(event_type="rights.access_answered")
    assert event.recipients == ["data subject"] and event.details["checks"] == 2
    assert event.details["late"] is True
    with pytest.raises(Exception, match="already answered"):
        subject_access_answer(actor=world.records, request=sar)


def test_unknown_redaction_path_is_an_error(world: World, subject: dict[str, Any]) -> None:
    with pytest.raises(Exception, match="Nothing to withhold at checks.9.narrative|checks\\[9\\]"):
        answer(world, subject, redactions=[("checks[9].narrative", "reason")])


def test_only_the_records_officer_handles_requests(world: World, subject: dict[str, Any]) -> None:
    for actor in (world.officer_a, world.analyst, world.other_agency_officer):
        with pytest.raises(Http404):
            subject_access_open(
                actor=actor, person=subject["person"], requester="x", identity_checked="y"
            )


def test_json_and_pdf(world: World, subject: dict[str, Any]) -> None:
    pkg = answer(world, subject)
    data = json.loads(as_json(pkg))
    assert data["person"]["given_name"] == subject["canary"].given
    pdf = as_pdf(pkg, agency_name=world.agency.name)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF") and len(pdf) > 5000


def test_answer_download_views(world: World, subject: dict[str, Any], client: Any) -> None:
    answer(world, subject)
    sar = SubjectAccessRequest.objects.get()
    url = f"/rights/access/{sar.pk}/answer"
    client.force_login(world.records)
    response = client.get(f"{url}.json")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert json.loads(response.content)["person"]["family_name"] == subject["canary"].family
    pdf = client.get(f"{url}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert client.get(f"/rights/access/{subject['person'].pk}/answer.json").status_code == 404
    assert AuditEvent.objects.filter(event_type="export", recipients=["data subject"]).count() == 2
    client.force_login(world.officer_a)
    assert client.get(f"{url}.json").status_code == 403
    client.logout()
    assert client.get(f"{url}.json").status_code == 302
