"""Pages after the scene: the supervisor's review queue and decision, follow-ups and the outcome
review. Same rules as ``views.py``: the door decides what exists (404), services write."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from wellcheck.accounts.permissions import Action
from wellcheck.checks import selectors
from wellcheck.checks.forms import apply_service_errors
from wellcheck.checks.forms_review import (
    FollowUpCompleteForm,
    FollowUpForm,
    OutcomeReviewForm,
    ReviewForm,
)
from wellcheck.checks.models import ReviewDecision
from wellcheck.checks.services import (
    check_outcome_review,
    check_review,
    follow_up_complete,
    follow_up_create,
)
from wellcheck.checks.views import _render_detail, agency_time
from wellcheck.core.routes import requires


@requires(Action.CHECK_REVIEW)
@never_cache
@agency_time
def review_queue(request: HttpRequest) -> HttpResponse:
    checks = selectors.review_queue(actor=request.user)  # type: ignore[arg-type]
    return render(request, "checks/review_queue.html", {"checks": checks[:200]})


@requires(Action.CHECK_REVIEW)
@never_cache
@agency_time
@require_http_methods(["GET", "POST"])
def check_review_view(request: HttpRequest, check_id: uuid.UUID) -> HttpResponse:
    actor: Any = request.user
    check = selectors.check_get(actor=actor, check_id=check_id, action=Action.CHECK_REVIEW)
    form = ReviewForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                check_review(
                    actor=actor,
                    check=check,
                    decision=form.cleaned_data["decision"],
                    note=form.cleaned_data["note"],
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                approved = form.cleaned_data["decision"] == ReviewDecision.APPROVED
                messages.success(
                    request, "Approved." if approved else "Returned to the officer with your note."
                )
                return redirect("checks:review_queue")
        status = 400
    # Reviewing a submitted check of one's unit is the stated reason for reading it.
    identity = selectors.check_get_identifying(
        actor=actor, check_id=check.pk, reason="supervision: review of a submitted check"
    )
    context = {"check": check, "identity": identity, "form": form}
    return render(request, "checks/review.html", context, status=status)


@requires(Action.CHECK_FOLLOW_UP)
@never_cache
@agency_time
@require_POST
def follow_up_create_view(request: HttpRequest, check_id: uuid.UUID) -> HttpResponse:
    actor: Any = request.user
    check = selectors.check_get(actor=actor, check_id=check_id, action=Action.CHECK_FOLLOW_UP)
    form = FollowUpForm(request.POST, staff=selectors.agency_staff(actor))
    if form.is_valid():
        try:
            follow_up_create(actor=actor, check=check, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Follow-up added.")
            return redirect("checks:detail", check_id=check.pk)
    return _render_detail(request, check.pk, extra={"follow_up_form": form}, status=400)


@requires(Action.CHECK_FOLLOW_UP)
@never_cache
@agency_time
@require_POST
def follow_up_complete_view(
    request: HttpRequest, check_id: uuid.UUID, follow_up_id: int
) -> HttpResponse:
    actor: Any = request.user
    check = selectors.check_get(actor=actor, check_id=check_id, action=Action.CHECK_FOLLOW_UP)
    follow_up = selectors.follow_up_get(check=check, follow_up_id=follow_up_id)
    form = FollowUpCompleteForm(request.POST)
    if form.is_valid():
        try:
            follow_up_complete(actor=actor, follow_up=follow_up, result=form.cleaned_data["result"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Follow-up completed.")
    return redirect("checks:detail", check_id=check.pk)


@requires(Action.CHECK_FOLLOW_UP)
@never_cache
@agency_time
@require_POST
def outcome_review_view(request: HttpRequest, check_id: uuid.UUID) -> HttpResponse:
    actor: Any = request.user
    check = selectors.check_get(actor=actor, check_id=check_id, action=Action.CHECK_FOLLOW_UP)
    form = OutcomeReviewForm(request.POST, codes=selectors.codes_by_category(actor.agency_id))
    if form.is_valid():
        try:
            check_outcome_review(
                actor=actor, check=check, result=form.cleaned_data["outcome_review"]
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Outcome review recorded.")
            return redirect("checks:detail", check_id=check.pk)
    return _render_detail(request, check.pk, extra={"outcome_review_form": form}, status=400)
