"""The check API: the door answers 404 outside scope, bad input names the field and writes
nothing, identity shows only with identity scope (and its read is audited), and the whole
create -> submit -> return -> fix -> approve flow leaves its audit trail."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from wellcheck.accounts.models import User
from wellcheck.accounts.models_tokens import ApiToken
from wellcheck.audit.models import AuditEvent
from wellcheck.checks.models import CheckDetail, CheckReview, WellnessCheck
from wellcheck.people.models import Consent, Person
from wellcheck.testing.personas import World, recent

LIST = "/api/v1/checks/"


def url(check_id: Any, suffix: str = "") -> str:
    return f"/api/v1/checks/{check_id}/{suffix}"


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def payload(world: World, **over: Any) -> dict[str, Any]:
    received = recent(90)
    body: dict[str, Any] = {
        "unit": world.unit_a.pk,
        "received_at": received.isoformat(),
        "incident_number": "E230199999",
        "initiator": "neighbour",
        "reasons": ["older_not_seen", "dementia"],
        "address": "4200 BLOCK TESTING WAY",
        "triage": "attend",
        "triage_rationale": "Not seen for three days.",
        "caller_told": True,
        "dispatched_at": (received + dt.timedelta(minutes=3)).isoformat(),
        "arrived_at": (received + dt.timedelta(minutes=15)).isoformat(),
        "cleared_at": (received + dt.timedelta(minutes=50)).isoformat(),
        "observed": ["disoriented"],
        "outcome": "resources_offered",
        "referrals": ["adult_protective"],
        "narrative": "Found at home, confused, unharmed.",
        "person": {
            "given_name": "Quentin",
            "family_name": "Apitestperson",
            "date_of_birth": "1941-03-04",
            "aliases": ["Q"],
        },
    }
    body.update(over)
    return body


def create(world: World, user: User | None = None, **over: Any) -> dict[str, Any]:
    response = client_for(user or world.officer_a).post(LIST, payload(world, **over), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def counts() -> tuple[int, ...]:
    return (
        WellnessCheck.objects.count(),
        CheckDetail.objects.count(),
        Person.objects.count(),
        Consent.objects.count(),
        AuditEvent.objects.exclude(category="sign_in").count(),  # signing in is audited too
    )


# --- the door: 404 outside scope --------------------------------------------------------------


def test_officer_of_unit_b_gets_404_for_unit_a_check(world: World) -> None:
    check_id = create(world)["id"]
    own, other = client_for(world.officer_a), client_for(world.officer_b)
    # Before: the owner reaches every route.
    assert own.get(url(check_id)).status_code == 200
    assert own.patch(url(check_id), {"narrative": "x"}, format="json").status_code == 200
    # After: the officer of unit B is told nothing exists.
    assert other.get(url(check_id)).status_code == 404
    assert (
        other.put(url(check_id), payload(world, unit=world.unit_b.pk), format="json").status_code
        == 404
    )
    assert other.patch(url(check_id), {"narrative": "y"}, format="json").status_code == 404
    assert other.post(url(check_id, "submit/")).status_code == 404
    assert (
        other.post(url(check_id, "mental-health/"), {"related": True}, format="json").status_code
        == 404
    )
    assert check_id not in other.get(LIST).content.decode()
    sup_b = client_for(world.supervisor_b)
    assert (
        sup_b.post(url(check_id, "review/"), {"decision": "approved"}, format="json").status_code
        == 404
    )
    other_agency = client_for(world.other_agency_officer)
    assert other_agency.get(url(check_id)).status_code == 404
    check = WellnessCheck.objects.get(pk=check_id)
    assert check.state == "draft" and not check.mental_health_related
    assert CheckDetail.objects.get(pk=check_id).narrative == "x"


def test_same_unit_officer_sees_but_cannot_edit_anothers_check(world: World) -> None:
    check_id = create(world)["id"]
    colleague = client_for(world.officer_a2)
    # CHECK_VIEW is unit-wide; outside one's own work a reason is asked first (428).
    assert colleague.get(url(check_id)).status_code == 428
    assert colleague.get(url(check_id) + "?reason=current_call").status_code == 200
    assert (
        colleague.patch(url(check_id), {"narrative": "z"}, format="json").status_code == 404
    )  # EDIT: own
    assert colleague.post(url(check_id, "submit/")).status_code == 404
    response = colleague.post(url(check_id, "mental-health/"), {"related": True}, format="json")
    assert response.status_code == 200 and response.json()["mental_health_related"] is True


def test_anonymous_is_refused_with_401(world: World) -> None:
    check_id = create(world)["id"]
    anon = client_for(None)
    for response in (
        anon.get(LIST),
        anon.post(LIST, payload(world), format="json"),
        anon.get(url(check_id)),
        anon.patch(url(check_id), {}, format="json"),
        anon.post(url(check_id, "submit/")),
        anon.get("/api/v1/schema/"),
    ):
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"
    assert WellnessCheck.objects.count() == 1


def test_roles_without_check_rights_are_refused(world: World) -> None:
    create(world)
    assert client_for(world.records).get(LIST).json()["count"] == 1  # agency-wide reader can
    for user in (world.analyst, world.auditor, world.partner):
        client = client_for(user)
        assert client.get(LIST).status_code == 403
        assert client.post(LIST, payload(world), format="json").status_code == 403
    assert client_for(world.records).post(LIST, payload(world), format="json").status_code == 403
    assert WellnessCheck.objects.count() == 1


# --- bad input: the field is named, nothing is written ---------------------------------------


@pytest.mark.parametrize(
    ("over", "field", "words"),
    [
        ({"reasons": ["dementia", "bogus_reason"]}, "reasons", "bogus_reason"),
        ({"initiator": "martian"}, "initiator", "martian"),
        ({"received_at": "yesterday-ish"}, "received_at", "format"),
        ({"received_at": "2023-02-30T10:00:00Z"}, "received_at", "format"),
        ({"unit": 999999}, "unit", "unit"),
        ({"latitude": "123.0"}, "latitude", "90"),
        ({"caller_told": "perhaps"}, "caller_told", "boolean"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    world: World, over: dict[str, Any], field: str, words: str
) -> None:
    create(world)  # the valid request succeeds
    client = client_for(world.officer_a)  # (signing in writes its own audit event)
    before = counts()
    response = client.post(LIST, payload(world, **over), format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert field in errors, errors
    assert words.lower() in " ".join(errors[field]).lower()
    assert counts() == before


def test_arrival_before_receipt_is_refused_by_field(world: World) -> None:
    received = recent(60)
    client = client_for(world.officer_a)
    before = counts()
    response = client.post(
        LIST,
        payload(
            world,
            received_at=received.isoformat(),
            dispatched_at=None,
            cleared_at=None,
            arrived_at=(received - dt.timedelta(minutes=5)).isoformat(),
        ),
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["arrived_at"]
    assert counts() == before


def test_bad_nested_and_future_birth_date_are_named(world: World) -> None:
    client = client_for(world.officer_a)
    before = counts()
    response = client.post(
        LIST, payload(world, person={"date_of_birth": "04/03/1941"}), format="json"
    )
    assert response.status_code == 400
    assert "date_of_birth" in response.json()["errors"]["person"]
    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    response = client.post(LIST, payload(world, person={"date_of_birth": future}), format="json")
    assert response.status_code == 400
    assert "date_of_birth" in response.json()["errors"]
    assert "Apitestperson" not in response.content.decode()
    assert counts() == before  # the person was not half-saved inside the failed transaction


def test_bad_update_changes_nothing(world: World) -> None:
    check_id = create(world)["id"]
    client = client_for(world.officer_a)
    before = counts()
    response = client.patch(
        url(check_id), {"outcome": "teleported", "narrative": "changed"}, format="json"
    )
    assert response.status_code == 400 and "outcome" in response.json()["errors"]
    assert counts() == before
    assert CheckDetail.objects.get(pk=check_id).narrative == "Found at home, confused, unharmed."


# --- the flow --------------------------------------------------------------------------------


def test_create_submit_return_fix_approve_with_audit(world: World) -> None:
    officer, supervisor = client_for(world.officer_a), client_for(world.supervisor_a)
    body = create(world, outcome="", referrals=[])
    check_id = body["id"]
    assert body["state"] == "draft" and body["detail"]["person"]["family_name"] == "Apitestperson"
    assert body["response_seconds"] == 15 * 60

    response = officer.post(url(check_id, "submit/"))
    assert response.status_code == 400 and list(response.json()["errors"]) == ["outcome"]
    assert (
        officer.patch(url(check_id), {"outcome": "resources_offered"}, format="json").status_code
        == 200
    )
    assert officer.post(url(check_id, "submit/")).json()["state"] == "submitted"
    # Submitted: the officer may no longer change it.
    response = officer.patch(url(check_id), {"narrative": "late"}, format="json")
    assert response.status_code == 400 and "state" in response.json()["errors"]
    # Only supervisors review; not one's own check; a return needs a note.
    assert (
        officer.post(url(check_id, "review/"), {"decision": "approved"}, format="json").status_code
        == 403
    )
    response = supervisor.post(url(check_id, "review/"), {"decision": "returned"}, format="json")
    assert response.status_code == 400 and "note" in response.json()["errors"]
    response = supervisor.post(
        url(check_id, "review/"),
        {"decision": "returned", "note": "Add the referral."},
        format="json",
    )
    assert response.json()["state"] == "returned"
    shown = officer.get(url(check_id)).json()
    assert (
        shown["reviews"][0]["note"] == "Add the referral."
        and shown["reviews"][0]["reviewer"] == "supervisor_a"
    )
    response = officer.patch(
        url(check_id), {"referrals": ["adult_protective", "family_caregiver"]}, format="json"
    )
    assert sorted(response.json()["referrals"]) == ["adult_protective", "family_caregiver"]
    assert (
        response.json()["detail"]["person"]["family_name"] == "Apitestperson"
    )  # PATCH kept the rest
    assert officer.post(url(check_id, "submit/")).status_code == 200
    response = supervisor.post(url(check_id, "review/"), {"decision": "approved"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "approved"
    assert response.json()["approved_at"]

    events = list(
        AuditEvent.objects.filter(target_id=check_id)
        .exclude(event_type="check.viewed")
        .values_list("event_type", "actor_id")
    )
    o, s = world.officer_a.pk, world.supervisor_a.pk
    assert events == [
        ("check.created", o),
        ("check.updated", o),
        ("check.submitted", o),
        ("check.returned", s),
        ("check.updated", o),
        ("check.submitted", o),
        ("check.approved", s),
    ]
    assert CheckReview.objects.filter(check_record_id=check_id).count() == 2


def test_put_replaces_and_mark_mental_health(world: World) -> None:
    check_id = create(world)["id"]
    officer = client_for(world.officer_a)
    response = officer.put(
        url(check_id),
        {"unit": world.unit_a.pk, "received_at": recent(30).isoformat()},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["reasons"] == [] and response.json()["detail"]["narrative"] == ""
    response = officer.post(url(check_id, "mental-health/"), {"related": True}, format="json")
    assert response.json()["mental_health_related"] is True
    assert (
        AuditEvent.objects.filter(
            target_id=check_id, event_type="check.marked_mental_health"
        ).count()
        == 1
    )


# --- identity: shown with scope, audited; never in the list --------------------------------


def test_identity_only_in_retrieve_and_each_read_is_audited(world: World) -> None:
    check_id = create(world)["id"]
    officer = client_for(world.officer_a)
    listed = officer.get(LIST)
    assert listed.status_code == 200 and listed.json()["count"] == 1
    text = listed.content.decode()
    for secret in (
        "Apitestperson",
        "4200 BLOCK TESTING WAY",
        "confused, unharmed",
        "E230199999",
        "1941",
    ):
        assert secret not in text
    assert "detail" not in listed.json()["results"][0]
    assert AuditEvent.objects.filter(event_type="check.viewed").count() == 0

    readers = {
        world.officer_a: "",
        world.supervisor_a: "?reason=supervision",
        world.records: "?reason=records_request",
    }
    for reader, query in readers.items():
        body = client_for(reader).get(url(check_id) + query).json()
        assert body["detail"]["address"] == "4200 BLOCK TESTING WAY"
        assert body["detail"]["person"]["date_of_birth"] == "1941-03-04"
    viewed = AuditEvent.objects.filter(event_type="check.viewed", target_id=check_id)
    assert sorted(viewed.values_list("actor_id", "reason")) == sorted(
        [
            (world.officer_a.pk, "own assigned work"),
            (world.supervisor_a.pk, "supervision"),
            (world.records.pk, "records_request"),
        ]
    )
    for event in viewed:
        assert "Apitestperson" not in str(event.details) + str(event.changes) + event.reason


def test_tally_shows_no_detail_and_no_view_event(consent_world: World) -> None:
    body = create(consent_world)  # no consent in a consent_only agency
    assert body["record_mode"] == "tally" and body["detail"] is None
    shown = client_for(consent_world.officer_a).get(url(body["id"])).json()
    assert shown["detail"] is None
    assert not AuditEvent.objects.filter(event_type="check.viewed").exists()


def test_patch_keeps_consented_identity_in_consent_only(consent_world: World) -> None:
    body = create(consent_world, consent={"scopes": ["ongoing_support"], "method": "verbal"})
    assert body["record_mode"] == "identified"
    response = client_for(consent_world.officer_a).patch(
        url(body["id"]), {"narrative": "Follow-up agreed."}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["record_mode"] == "identified"
    assert response.json()["detail"]["person"]["family_name"] == "Apitestperson"
    assert response.json()["detail"]["narrative"] == "Follow-up agreed."


# --- list filters and pagination ------------------------------------------------------------


def test_list_filters_and_pagination(world: World, django_assert_max_num_queries: Any) -> None:
    a1 = create(world)["id"]
    a2 = create(world, reasons=["medical"], outcome="ems_transport", mental_health_related=True)[
        "id"
    ]
    b1 = create(
        world,
        user=world.officer_b,
        unit=world.unit_b.pk,
        received_at=(timezone.now() - dt.timedelta(days=10)).isoformat(),
        dispatched_at=None,
        arrived_at=None,
        cleared_at=None,
    )["id"]
    client_for(world.officer_a).post(url(a1, "submit/"))
    admin = client_for(world.admin)

    def ids(query: str) -> set[str]:
        response = admin.get(LIST + query)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids("") == {a1, a2, b1}
    assert ids("?state=submitted") == {a1}
    assert ids("?reason=medical") == {a2}
    assert ids("?reason=dementia") == {a1, b1}
    assert ids("?outcome=ems_transport") == {a2}
    assert ids("?mental_health_related=true") == {a2}
    assert ids("?unit=B") == {b1}
    assert ids("?unit=D1") == {a1, a2, b1}
    old = (timezone.localdate() - dt.timedelta(days=5)).isoformat()
    assert ids(f"?received_to={old}") == {b1}
    assert ids(f"?received_from={old}") == {a1, a2}
    response = admin.get(LIST + "?state=nonsense")
    assert response.status_code == 400 and "state" in response.json()["errors"]
    page = admin.get(LIST + "?limit=2").json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    assert client_for(world.officer_a).get(LIST).json()["count"] == 2  # only unit A
    for _ in range(20):
        create(world)
    with django_assert_max_num_queries(12):  # constant, not one per row
        assert len(admin.get(LIST).json()["results"]) == 23


# --- tokens -----------------------------------------------------------------------------------


def test_issued_token_works_and_revoked_or_unknown_gets_401(world: World) -> None:
    create(world)
    out = io.StringIO()
    call_command("issue_token", "officer_a", stdout=out)
    raw = out.getvalue().strip()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert client.get(LIST).json()["count"] == 1
    response = client.post(LIST, payload(world), format="json")
    assert response.status_code == 201  # token requests need no CSRF token
    ApiToken.objects.filter(user=world.officer_a).update(revoked_at=timezone.now())
    assert client.get(LIST).status_code == 401
    client.credentials(HTTP_AUTHORIZATION="Token wc_not-a-real-token")
    assert client.get(LIST).status_code == 401
    client.credentials(HTTP_AUTHORIZATION="Token")
    assert client.get(LIST).status_code == 401


def test_session_requests_need_csrf(world: World) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.officer_a)
    assert client.get(LIST).status_code == 200
    response = client.post(LIST, payload(world), format="json")
    assert response.status_code == 403
    assert WellnessCheck.objects.count() == 0


# --- schema -----------------------------------------------------------------------------------


def test_schema_generates_without_warnings(world: World) -> None:
    out = io.StringIO()
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out
    )
    assert '"/api/v1/checks/{id}/submit/"' in out.getvalue()
    response = client_for(world.officer_a).get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/v1/checks/", "/api/v1/checks/{id}/", "/api/v1/checks/{id}/review/"} <= set(paths)
    assert "tokenAuth" in response.json()["components"]["securitySchemes"]


def test_update_of_someone_elses_check_needs_a_reason_and_is_audited(world) -> None:
    """A supervisor's PATCH returns the identifying part: it is a look, so it needs a reason."""
    from rest_framework.test import APIClient

    from wellcheck.audit.models import AuditEvent
    from wellcheck.checks.inputs import CheckInput
    from wellcheck.checks.services import check_create
    from wellcheck.testing.personas import recent

    check = check_create(
        actor=world.officer_a,
        data=CheckInput(unit_id=world.unit_a.pk, received_at=recent(), address="9 Patch Rd"),
    )
    own = APIClient()
    own.force_login(world.officer_a)
    assert (
        own.patch(f"/api/v1/checks/{check.pk}/", {"narrative": "x"}, format="json").status_code
        == 200
    )
    sup = APIClient()
    sup.force_login(world.supervisor_a)
    url = f"/api/v1/checks/{check.pk}/"
    refused = sup.patch(url, {"narrative": "y"}, format="json")
    assert refused.status_code == 428
    before = AuditEvent.objects.filter(
        event_type="check.viewed", actor_id=world.supervisor_a.pk
    ).count()
    ok = sup.patch(url + "?reason=supervision", {"narrative": "y"}, format="json")
    assert ok.status_code == 200 and ok.json()["detail"]["address"] == "9 Patch Rd"
    events = AuditEvent.objects.filter(event_type="check.viewed", actor_id=world.supervisor_a.pk)
    assert events.count() == before + 1 and "supervision" in events.last().reason
