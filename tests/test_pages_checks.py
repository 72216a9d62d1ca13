"""The check pages: scope (404 outside it), form errors that name the field and save nothing,
list filters, the audited identifying read, and a pinned query count for the list."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from wellcheck.audit.models import AuditEvent
from wellcheck.checks.inputs import CheckInput, PersonInput
from wellcheck.checks.models import CheckDetail, CheckReview, CheckState, RecordMode, WellnessCheck
from wellcheck.checks.services import check_create, check_review, check_submit
from wellcheck.people.models import Person
from wellcheck.testing.personas import World, recent

LOCAL = "%Y-%m-%dT%H:%M"
# The list's own queries: codes, scope units, filter units, count, page rows, their reasons, and
# checks returned to the officer with their notes. Pinned: a new query here is a decision.
LIST_QUERIES = 8


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def full_input(world: World, **over: Any) -> CheckInput:
    received = recent(90)
    values: dict[str, Any] = dict(
        unit_id=world.unit_a.pk,
        received_at=received,
        incident_number="E2301PAGES",
        initiator="neighbour",
        reasons=("older_not_seen",),
        address="4200 BLOCK PAGE ST",
        triage="attend",
        triage_rationale="Not seen for days.",
        caller_told=True,
        arrived_at=received + dt.timedelta(minutes=9),
        outcome="safe_no_action",
        narrative="Zebulon Pagetest was well.",
        person=PersonInput(given_name="Zebulon", family_name="Pagetest"),
    )
    values.update(over)
    return CheckInput(**values)


def form_post(world: World, **over: Any) -> dict[str, Any]:
    """A complete, valid form submission for unit A."""
    received = timezone.localtime() - dt.timedelta(hours=1)
    data: dict[str, Any] = {
        "unit": str(world.unit_a.pk),
        "received_at": received.strftime(LOCAL),
        "incident_number": "E2399FORM",
        "initiator": "family",
        "reasons": ["dementia", "older_not_seen"],
        "address": "100 BLOCK FORM ST",
        "triage": "attend",
        "triage_rationale": "Risk to life reported.",
        "caller_told": "yes",
        "arrived_at": (received + dt.timedelta(minutes=12)).strftime(LOCAL),
        "observed": ["disoriented"],
        "outcome": "resources_offered",
        "referrals": ["adult_protective"],
        "narrative": "Found confused at home.",
        "given_name": "Ottoline",
        "family_name": "Formtest",
        "date_of_birth": "1941-03-04",
        "aliases": "Otty\nLina",
        "consent_method": "verbal",
    }
    data.update(over)
    return data


def counts() -> tuple[int, int, int, int]:
    return (
        WellnessCheck.objects.count(),
        CheckDetail.objects.count(),
        Person.objects.count(),
        AuditEvent.objects.exclude(category="sign_in").count(),  # signing in is audited too
    )


# --- scope: an officer of unit B gets 404 for unit A's check everywhere --------------------------


def test_officer_of_another_unit_gets_404_everywhere(world: World) -> None:
    check = check_create(actor=world.officer_a, data=full_input(world))
    mine = client_for(world.officer_a)
    assert mine.get(reverse("checks:detail", args=[check.pk])).status_code == 200
    assert mine.get(reverse("checks:edit", args=[check.pk])).status_code == 200

    other = client_for(world.officer_b)
    pk = [check.pk]
    assert other.get(reverse("checks:detail", args=pk)).status_code == 404
    assert other.get(reverse("checks:edit", args=pk)).status_code == 404
    assert other.post(reverse("checks:edit", args=pk), form_post(world)).status_code == 404
    assert other.post(reverse("checks:submit", args=pk)).status_code == 404
    assert other.post(reverse("checks:mark_mh", args=pk), {"related": "yes"}).status_code == 404
    assert (
        other.post(
            reverse("checks:follow_up_create", args=pk),
            {"task": "x", "assigned_to": world.officer_b.pk, "due_on": "2030-01-01"},
        ).status_code
        == 404
    )
    assert (
        other.post(
            reverse("checks:outcome_review", args=pk), {"outcome_review": "successful"}
        ).status_code
        == 404
    )
    check.refresh_from_db()
    assert check.state == CheckState.DRAFT and not check.mental_health_related

    # The supervisor of unit B cannot review a unit A check; the supervisor of unit A can.
    check_submit(actor=world.officer_a, check=check)
    sup_b = client_for(world.supervisor_b)
    assert sup_b.get(reverse("checks:review", args=pk)).status_code == 404
    assert (
        sup_b.post(reverse("checks:review", args=pk), {"decision": "approved"}).status_code == 404
    )
    check.refresh_from_db()
    assert check.state == CheckState.SUBMITTED
    assert client_for(world.supervisor_a).get(reverse("checks:review", args=pk)).status_code == 200


def test_roles_without_check_view_are_refused_and_anonymous_redirected(world: World) -> None:
    check = check_create(actor=world.officer_a, data=full_input(world))
    assert client_for(world.analyst).get(reverse("checks:list")).status_code == 403
    assert (
        client_for(world.other_agency_officer)
        .get(reverse("checks:detail", args=[check.pk]))
        .status_code
        == 404
    )
    anon = Client().get(reverse("checks:detail", args=[check.pk]))
    assert anon.status_code == 302 and "/accounts/login/" in anon["Location"]


def give_reason(client: Client, check: WellnessCheck, code: str = "current_call") -> None:
    """State a reason for looking at someone else's check (the access rule of issue 3)."""
    response = client.post(reverse("accounts:look_reason", args=[check.pk]), {"reason": code})
    assert response.status_code == 302


def test_another_officer_of_same_unit_sees_but_cannot_edit(world: World) -> None:
    check = check_create(actor=world.officer_a, data=full_input(world))
    peer = client_for(world.officer_a2)
    give_reason(peer, check)
    page = peer.get(reverse("checks:detail", args=[check.pk]))
    assert page.status_code == 200
    assert reverse("checks:edit", args=[check.pk]) not in page.content.decode()
    assert peer.get(reverse("checks:edit", args=[check.pk])).status_code == 404


def test_stylesheet_is_served(world: World) -> None:
    """The vendored stylesheet the base template links to is found and served (no CDN)."""
    response = Client().get("/static/wellcheck/app.css")
    assert response.status_code == 200
    assert b".check-row" in b"".join(response.streaming_content)  # type: ignore[attr-defined]


# --- the form: records a check; errors name the field; nothing half-saved ---------------------


def test_new_check_form_records_everything(world: World) -> None:
    client = client_for(world.officer_a)
    page = client.get(reverse("checks:new"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Dementia or cognitive impairment" in html  # codes come from the Code table
    response = client.post(reverse("checks:new"), form_post(world))
    assert response.status_code == 302
    check = WellnessCheck.objects.get()
    assert response["Location"] == reverse("checks:detail", args=[check.pk])
    assert check.record_mode == RecordMode.IDENTIFIED and check.state == CheckState.DRAFT
    assert sorted(c.code for c in check.reasons.all()) == ["dementia", "older_not_seen"]
    assert check.caller_told is True and check.response_seconds == 12 * 60
    detail = CheckDetail.objects.get(check_record=check)
    assert detail.address == "100 BLOCK FORM ST" and detail.narrative == "Found confused at home."
    assert detail.person is not None and detail.person.aliases == ["Otty", "Lina"]
    assert detail.person.date_of_birth == dt.date(1941, 3, 4)


def test_draft_needs_only_unit_and_time(world: World) -> None:
    client = client_for(world.officer_a)
    received = timezone.localtime().strftime(LOCAL)
    response = client.post(
        reverse("checks:new"),
        {"unit": world.unit_a.pk, "received_at": received, "consent_method": "verbal"},
    )
    assert response.status_code == 302
    assert WellnessCheck.objects.get().state == CheckState.DRAFT


@pytest.mark.parametrize(
    ("over", "field_label", "problem"),
    [
        ({"received_at": "yesterday-ish"}, "Call received", "Enter a valid date/time."),
        ({"received_at": ""}, "Call received", "This field is required."),
        ({"reasons": ["dementia", "bogus"]}, "Reasons for concern", "bogus"),
        ({"latitude": "95"}, "Latitude", "less than or equal to 90"),
        ({"latitude": "32.7"}, "Longitude", "Give both latitude and longitude"),
        ({"date_of_birth": "2999-01-01"}, "Date of birth", "The date of birth is in the future."),
        ({"unit": "999999"}, "Unit (beat)", "Select a valid choice."),
    ],
)
def test_form_error_names_field_and_problem_and_saves_nothing(
    world: World, over: dict[str, Any], field_label: str, problem: str
) -> None:
    client = client_for(world.officer_a)
    before = counts()
    response = client.post(reverse("checks:new"), form_post(world, **over))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Not saved. Please fix:" in html
    summary = html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert field_label in summary and problem in summary
    assert counts() == before


def test_service_error_on_a_later_time_is_shown_on_that_field(world: World) -> None:
    """The service (not the form) refuses arrival before receipt: shown on "Arrived"; no rows."""
    client = client_for(world.officer_a)
    received = timezone.localtime() - dt.timedelta(hours=1)
    before = counts()
    response = client.post(
        reverse("checks:new"),
        form_post(world, arrived_at=(received - dt.timedelta(hours=2)).strftime(LOCAL)),
    )
    assert response.status_code == 400
    assert "Arrived: This time is earlier than the one before it." in response.content.decode()
    assert counts() == before


def test_officer_cannot_record_for_another_unit(world: World) -> None:
    client = client_for(world.officer_a)
    before = counts()
    response = client.post(reverse("checks:new"), form_post(world, unit=str(world.unit_b.pk)))
    assert response.status_code == 400
    assert "Unit (beat)" in response.content.decode()
    assert counts() == before


def test_edit_keeps_identity_and_audits_the_read(world: World) -> None:
    check = check_create(actor=world.officer_a, data=full_input(world))
    client = client_for(world.officer_a)
    page = client.get(reverse("checks:edit", args=[check.pk]))
    assert "Zebulon" in page.content.decode()
    assert AuditEvent.objects.filter(
        event_type="check.viewed", target_id=str(check.pk), reason__startswith="edit"
    ).exists()
    response = client.post(
        reverse("checks:edit", args=[check.pk]), form_post(world, narrative="Changed narrative.")
    )
    assert response.status_code == 302
    assert CheckDetail.objects.get(check_record=check).narrative == "Changed narrative."


# --- consent_only: the page says which was stored ----------------------------------------------


def test_consent_only_form_warns_and_result_says_tally(consent_world: World) -> None:
    world = consent_world
    client = client_for(world.officer_a)
    html = client.get(reverse("checks:new")).content.decode()
    assert "only a de-identified tally" in html
    response = client.post(reverse("checks:new"), form_post(world), follow=True)
    check = WellnessCheck.objects.get()
    assert check.record_mode == RecordMode.TALLY
    assert not CheckDetail.objects.exists() and not Person.objects.exists()
    page = response.content.decode()
    assert "Saved as a de-identified tally" in page and "De-identified tally" in page
    assert "Ottoline" not in page and "Identifying record" not in page


def test_consent_only_with_consent_keeps_identity(consent_world: World) -> None:
    world = consent_world
    client = client_for(world.officer_a)
    response = client.post(
        reverse("checks:new"), form_post(world, consent_scopes=["ongoing_support"]), follow=True
    )
    check = WellnessCheck.objects.get()
    assert check.record_mode == RecordMode.IDENTIFIED
    assert "Saved as an identifying record" in response.content.decode()
    person = CheckDetail.objects.get(check_record=check).person
    assert person is not None
    consent = person.consents.get()
    assert consent.taken_by == world.officer_a and consent.scope == "ongoing_support"


# --- detail: identity is an audited read; tallies show a badge and no identity -----------------


def test_identifying_read_writes_audit_event_without_content(world: World) -> None:
    check = check_create(actor=world.officer_a, data=full_input(world))
    client = client_for(world.officer_a2)
    # Someone else's check: the page first asks why, and shows nothing identifying meanwhile.
    first = client.get(reverse("checks:detail", args=[check.pk]))
    assert first.status_code == 302 and "Zebulon" not in first.content.decode()
    assert not AuditEvent.objects.filter(event_type="check.viewed").exists()
    give_reason(client, check)
    html = client.get(reverse("checks:detail", args=[check.pk])).content.decode()
    assert "Zebulon Pagetest" in html and "4200 BLOCK PAGE ST" in html
    event = AuditEvent.objects.get(event_type="check.viewed")
    assert event.actor_id == world.officer_a2.pk and event.target_id == str(check.pk)
    assert event.category == "consultation" and event.reason.startswith("current_call")
    stored = f"{event.details} {event.changes} {event.reason}"
    assert "Zebulon" not in stored and "PAGE ST" not in stored


def test_own_check_read_is_audited_as_own_work(world: World) -> None:
    check = check_create(actor=world.officer_a, data=full_input(world))
    html = client_for(world.officer_a).get(reverse("checks:detail", args=[check.pk]))
    assert "Zebulon Pagetest" in html.content.decode()
    event = AuditEvent.objects.get(event_type="check.viewed")
    assert event.actor_id == world.officer_a.pk and event.reason == "own assigned work"


def test_tally_detail_shows_badge_and_no_identity_and_no_read_event(consent_world: World) -> None:
    world = consent_world
    check = check_create(actor=world.officer_a, data=full_input(world))
    assert check.is_tally
    html = (
        client_for(world.officer_a).get(reverse("checks:detail", args=[check.pk])).content.decode()
    )
    assert "De-identified tally" in html and "Identifying record" not in html
    assert not AuditEvent.objects.filter(event_type="check.viewed").exists()


# --- submit, review, return with note, resubmit --------------------------------------------------


def test_submit_lists_missing_fields_by_name(world: World) -> None:
    check = check_create(
        actor=world.officer_a,
        data=CheckInput(unit_id=world.unit_a.pk, received_at=recent(10)),
    )
    response = client_for(world.officer_a).post(reverse("checks:submit", args=[check.pk]))
    assert response.status_code == 400
    html = response.content.decode()
    for label in ("Who asked", "Reasons for concern", "Triage decision", "Outcome"):
        assert f"<strong>{label}</strong>" in html
    check.refresh_from_db()
    assert check.state == CheckState.DRAFT


def test_review_cycle_return_with_note_fix_and_approve(world: World) -> None:
    check = check_create(actor=world.officer_a, data=full_input(world))
    officer, supervisor = client_for(world.officer_a), client_for(world.supervisor_a)
    assert officer.post(reverse("checks:submit", args=[check.pk])).status_code == 302
    queue = supervisor.get(reverse("checks:review_queue")).content.decode()
    assert reverse("checks:review", args=[check.pk]) in queue

    # Returning needs a note; the error names the field and nothing changes.
    bad = supervisor.post(reverse("checks:review", args=[check.pk]), {"decision": "returned"})
    assert bad.status_code == 400 and "Note to the officer: Say what the officer should fix." in (
        bad.content.decode()
    )
    assert not CheckReview.objects.exists()

    supervisor.post(
        reverse("checks:review", args=[check.pk]),
        {"decision": "returned", "note": "Add the referral you offered."},
    )
    check.refresh_from_db()
    assert check.state == CheckState.RETURNED
    dashboard = officer.get(reverse("checks:list")).content.decode()
    assert "Returned to you" in dashboard and "Add the referral you offered." in dashboard

    officer.post(reverse("checks:edit", args=[check.pk]), form_post(world))
    officer.post(reverse("checks:submit", args=[check.pk]))
    supervisor.post(reverse("checks:review", args=[check.pk]), {"decision": "approved"})
    check.refresh_from_db()
    assert check.state == CheckState.APPROVED
    assert (
        "Add the referral you offered."
        in officer.get(reverse("checks:detail", args=[check.pk])).content.decode()
    )


def test_review_queue_is_oldest_first_and_unit_only(world: World) -> None:
    first = check_create(actor=world.officer_a, data=full_input(world))
    second = check_create(actor=world.officer_a2, data=full_input(world))
    elsewhere = check_create(actor=world.officer_b, data=full_input(world, unit_id=world.unit_b.pk))
    for check, actor in (
        (first, world.officer_a),
        (second, world.officer_a2),
        (elsewhere, world.officer_b),
    ):
        check_submit(actor=actor, check=check)
    html = client_for(world.supervisor_a).get(reverse("checks:review_queue")).content.decode()
    a, b = html.find(str(first.pk)), html.find(str(second.pk))
    assert 0 < a < b
    assert str(elsewhere.pk) not in html


def test_mark_mental_health_after_the_fact(world: World) -> None:
    check = check_create(actor=world.officer_a, data=full_input(world))
    check_submit(actor=world.officer_a, check=check)
    check_review(actor=world.supervisor_a, check=check, decision="approved")
    response = client_for(world.officer_a2).post(
        reverse("checks:mark_mh", args=[check.pk]), {"related": "yes"}
    )
    assert response.status_code == 302
    check.refresh_from_db()
    assert check.mental_health_related and check.state == CheckState.APPROVED
    assert AuditEvent.objects.filter(event_type="check.marked_mental_health").count() == 1


def test_follow_up_and_outcome_review(world: World) -> None:
    check = check_create(actor=world.officer_a, data=full_input(world))
    check_submit(actor=world.officer_a, check=check)
    check_review(actor=world.supervisor_a, check=check, decision="approved")
    client = client_for(world.officer_a)
    bad = client.post(
        reverse("checks:follow_up_create", args=[check.pk]),
        {"task": "Call back", "assigned_to": world.officer_a.pk, "due_on": "soon"},
    )
    assert bad.status_code == 400 and "Due: Enter a valid date." in bad.content.decode()
    assert not check.follow_ups.exists()
    ok = client.post(
        reverse("checks:follow_up_create", args=[check.pk]),
        {"task": "Call back", "assigned_to": world.officer_a.pk, "due_on": "2030-01-02"},
    )
    assert ok.status_code == 302
    follow_up = check.follow_ups.get()
    client.post(
        reverse("checks:follow_up_complete", args=[check.pk, follow_up.pk]), {"result": "Fine."}
    )
    follow_up.refresh_from_db()
    assert follow_up.completed_at is not None and follow_up.result == "Fine."
    client.post(reverse("checks:outcome_review", args=[check.pk]), {"outcome_review": "successful"})
    check.refresh_from_db()
    assert check.outcome_review is not None and check.outcome_review.code == "successful"


# --- the list: filters and a pinned query count ------------------------------------------------


def _ids(response: Any) -> set[str]:
    return {str(c.pk) for c in response.context["page"].object_list}


def test_list_filters(world: World) -> None:
    old = check_create(
        actor=world.officer_a,
        data=full_input(world, received_at=timezone.now() - dt.timedelta(days=40)),
    )
    dementia = check_create(
        actor=world.officer_a,
        data=full_input(world, reasons=("dementia",), outcome="ems_transport"),
    )
    mh = check_create(actor=world.officer_a, data=full_input(world, mental_health_related=True))
    check_submit(actor=world.officer_a, check=mh)
    admin = client_for(world.admin)
    in_b = check_create(actor=world.admin, data=full_input(world, unit_id=world.unit_b.pk))
    url = reverse("checks:list")
    assert _ids(admin.get(url)) == {str(c.pk) for c in (old, dementia, mh, in_b)}
    assert _ids(admin.get(url, {"unit": world.unit_b.pk})) == {str(in_b.pk)}
    assert _ids(admin.get(url, {"reason": "dementia"})) == {str(dementia.pk)}
    assert _ids(admin.get(url, {"outcome": "ems_transport"})) == {str(dementia.pk)}
    assert _ids(admin.get(url, {"state": "submitted"})) == {str(mh.pk)}
    assert _ids(admin.get(url, {"mh": "yes"})) == {str(mh.pk)}
    since = (timezone.localdate() - dt.timedelta(days=7)).isoformat()
    assert str(old.pk) not in _ids(admin.get(url, {"date_from": since}))
    until = (timezone.localdate() - dt.timedelta(days=30)).isoformat()
    assert _ids(admin.get(url, {"date_to": until})) == {str(old.pk)}
    # An officer's list holds only their unit's checks, whatever the filter asks for.
    officer_b = client_for(world.officer_b)
    assert _ids(officer_b.get(url)) == {str(in_b.pk)}
    assert _ids(officer_b.get(url, {"unit": world.unit_a.pk})) == {str(in_b.pk)}
    bad = admin.get(url, {"date_from": "2026-13-45"})
    assert "From: Enter a valid date." in bad.content.decode()


def test_list_paginates(world: World) -> None:
    for _ in range(27):
        check_create(actor=world.officer_a, data=full_input(world))
    client = client_for(world.officer_a)
    first = client.get(reverse("checks:list"))
    assert len(first.context["page"].object_list) == 25
    second = client.get(reverse("checks:list"), {"page": 2})
    assert len(second.context["page"].object_list) == 2
    assert not (_ids(first) & _ids(second))


def _list_queries(client: Client) -> tuple[int, int]:
    """(all queries, queries of the list itself) for one list request filtered by reason."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("checks:list"), {"reason": "dementia"})
    assert response.status_code == 200
    own = [q for q in ctx.captured_queries if "checks_" in q["sql"] or "accounts_unit" in q["sql"]]
    return len(ctx.captured_queries), len(own)


def _make_checks(world: World, n: int, *, returned: int = 0) -> None:
    for i in range(n):
        check = check_create(
            actor=world.officer_a,
            data=full_input(
                world, reasons=("dementia", "medical"), mental_health_related=i % 2 == 0
            ),
        )
        if i < returned:
            check_submit(actor=world.officer_a, check=check)
            check_review(actor=world.supervisor_a, check=check, decision="returned", note="Fix.")


def test_list_query_count_is_pinned(world: World, django_assert_max_num_queries: Any) -> None:
    """The list costs a fixed number of queries whatever the page holds: an N+1 fails here."""
    client = client_for(world.officer_a)
    _make_checks(world, 1, returned=1)
    client.get(reverse("checks:list"))  # warm per-process caches (content types)
    total_one, own_one = _list_queries(client)
    assert own_one == LIST_QUERIES

    _make_checks(world, 40, returned=3)
    with django_assert_max_num_queries(total_one):
        response = client.get(reverse("checks:list"), {"reason": "dementia"})
    assert len(response.context["page"].object_list) == 25
    assert len(response.context["returned"]) == 4
    assert _list_queries(client)[1] == LIST_QUERIES


def test_responders_are_the_units_staff_and_existing_ones_are_kept(world: World) -> None:
    client = client_for(world.officer_a)
    choices = client.get(reverse("checks:new")).context["form"].fields["responders"].queryset
    assert set(choices) == {world.officer_a, world.officer_a2, world.supervisor_a}
    check = check_create(
        actor=world.officer_a, data=full_input(world, responder_ids=(world.officer_b.pk,))
    )
    page = client.get(reverse("checks:edit", args=[check.pk]))
    assert world.officer_b in page.context["form"].fields["responders"].queryset
    response = client.post(
        reverse("checks:edit", args=[check.pk]),
        form_post(world, responders=[world.officer_b.pk, world.officer_a2.pk]),
    )
    assert response.status_code == 302
    detail = CheckDetail.objects.get(check_record=check)
    assert set(detail.responders.all()) == {world.officer_b, world.officer_a2}


def test_pages_with_identity_are_not_stored_by_the_browser(world: World) -> None:
    check = check_create(actor=world.officer_a, data=full_input(world))
    client = client_for(world.officer_a)
    for name in ("checks:detail", "checks:edit"):
        response = client.get(reverse(name, args=[check.pk]))
        assert "no-store" in response["Cache-Control"], name


def test_failed_edit_changes_nothing(world: World) -> None:
    check = check_create(actor=world.officer_a, data=full_input(world))
    client = client_for(world.officer_a)
    received = timezone.localtime() - dt.timedelta(hours=1)
    events = AuditEvent.objects.count()
    response = client.post(
        reverse("checks:edit", args=[check.pk]),
        form_post(
            world,
            narrative="Should not be stored.",
            cleared_at=(received - dt.timedelta(hours=3)).strftime(LOCAL),
        ),
    )
    assert response.status_code == 400
    assert "Cleared: This time is earlier than the one before it." in response.content.decode()
    detail = CheckDetail.objects.get(check_record=check)
    assert detail.narrative == "Zebulon Pagetest was well."
    assert sorted(c.code for c in WellnessCheck.objects.get(pk=check.pk).reasons.all()) == [
        "older_not_seen"
    ]
    assert AuditEvent.objects.exclude(event_type="check.viewed").count() == events


def test_form_times_are_the_agencys_local_time(world: World) -> None:
    """A time typed on the form is read in the agency's zone, whatever the server's zone is."""
    world.agency.time_zone = "Europe/London"
    world.agency.save(update_fields=["time_zone"])
    client = client_for(world.officer_a)
    response = client.post(
        reverse("checks:new"),
        {"unit": world.unit_a.pk, "received_at": "2026-01-10T12:00", "consent_method": "verbal"},
    )
    assert response.status_code == 302
    stored = WellnessCheck.objects.get().received_at
    assert stored == dt.datetime(2026, 1, 10, 12, 0, tzinfo=dt.UTC)
    page = client.get(reverse("checks:detail", args=[WellnessCheck.objects.get().pk]))
    assert "10 Jan 2026, 12:00" in page.content.decode()
