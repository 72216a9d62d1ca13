"""End to end in real Chromium on a 390x844 phone screen: an officer signs in, records a check
and submits it; the supervisor of the same unit signs in and approves it."""

from __future__ import annotations

from typing import Any

import pytest

from wellcheck.checks.models import CheckDetail, CheckReview, CheckState, WellnessCheck
from wellcheck.testing.personas import World


@pytest.mark.browser
def test_officer_records_and_submits_supervisor_approves(
    page: Any, new_page: Any, live_server: Any, world: World, sign_in: Any, screenshot: Any
) -> None:
    sign_in(page, world.officer_a)
    page.get_by_role("link", name="New check").first.click()
    page.wait_for_url("**/checks/new/")
    assert page.viewport_size == {"width": 390, "height": 844}

    # Nothing wider than the phone: no sideways scrolling on the form.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the form is {width}px wide on a 390px screen"

    page.get_by_label("Incident number").fill("E26BROWSER1")
    page.get_by_label("Who asked").select_option("neighbour")
    page.get_by_label("Older person not seen").check()
    page.get_by_label("Missed contact or unreachable").check()
    page.get_by_label("Block address or intersection").fill("3700 BLOCK BROWSER AVE")
    page.get_by_label("Attend", exact=True).check()
    page.get_by_label("Why (triage rationale)").fill("Neighbour has not seen her for three days.")
    page.locator("#id_caller_told_1").check()  # "Yes"
    page.get_by_label("Outcome", exact=True).select_option("safe_no_action")
    page.get_by_label("Narrative").fill("Found well; daughter informed.")
    page.get_by_label("Given name").fill("Philippa")
    page.get_by_label("Family name").fill("Browsertest")
    screenshot(page, "check-form-filled")
    page.get_by_role("button", name="Save draft").click()

    page.wait_for_url("**/checks/*/")
    assert page.get_by_text("Saved as an identifying record.").is_visible()
    page.get_by_role("button", name="Submit for review").click()
    page.get_by_text("Submitted for review.").wait_for()
    screenshot(page, "check-detail-submitted")

    check = WellnessCheck.objects.get()
    assert check.state == CheckState.SUBMITTED and check.created_by == world.officer_a
    assert CheckDetail.objects.get(check_record=check).incident_number == "E26BROWSER1"

    supervisor = new_page()
    sign_in(supervisor, world.supervisor_a)
    supervisor.get_by_role("link", name="Review queue").first.click()
    supervisor.wait_for_url("**/review/")
    screenshot(supervisor, "review-queue")
    supervisor.locator(f"a[href$='/checks/{check.pk}/review/']").click()
    supervisor.get_by_label("Approve").check()
    screenshot(supervisor, "review-decision")
    supervisor.get_by_role("button", name="Record decision").click()
    supervisor.get_by_text("Approved.").wait_for()

    check.refresh_from_db()
    assert check.state == CheckState.APPROVED and check.approved_at is not None
    review = CheckReview.objects.get(check_record=check)
    assert review.reviewer == world.supervisor_a and review.decision == "approved"

    page.goto(live_server.url + "/")
    screenshot(page, "check-list-officer")
    assert page.locator(".tag-approved").first.is_visible()
