"""Pages for recording, listing and reviewing checks. Thin: selectors read (through the door),
services write; every view declares its rule, and a check outside the actor's scope is a 404."""

from __future__ import annotations

import uuid
import zoneinfo
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from wellcheck.accounts.looks import require_look_reason
from wellcheck.accounts.models import Agency, RecordPolicy
from wellcheck.accounts.permissions import Action, can
from wellcheck.checks import selectors
from wellcheck.checks.forms import (
    CheckForm,
    FilterForm,
    apply_service_errors,
    initial_for_new,
    initial_from_check,
)
from wellcheck.checks.history import prior_checks_at_address
from wellcheck.checks.models import RecordMode, WellnessCheck
from wellcheck.checks.services import (
    EDITABLE_STATES,
    check_create,
    check_mark_mental_health,
    check_submit,
    check_update,
    submit_problems,
)
from wellcheck.core.routes import requires

PAGE_SIZE = 25
V = TypeVar("V", bound=Callable[..., HttpResponse])


def agency_time(view: V) -> V:
    """Show and read times in the actor's agency's time zone (a form's 14:05 is local time)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        agency_id = getattr(request.user, "agency_id", None)
        name = (
            Agency.objects.filter(pk=agency_id).values_list("time_zone", flat=True).first()
            if agency_id is not None
            else None
        )
        try:
            zone = zoneinfo.ZoneInfo(name) if name else None
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = None
        if zone is None:
            return view(request, *args, **kwargs)
        with timezone.override(zone):
            return view(request, *args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _check_form(
    request: HttpRequest, check: WellnessCheck | None = None, **kwargs: Any
) -> CheckForm:
    actor: Any = request.user
    return CheckForm(
        codes=selectors.codes_by_category(actor.agency_id),
        units=selectors.units_for(actor, Action.CHECK_CREATE),
        staff=selectors.responder_choices(actor=actor, check_id=check.pk if check else None),
        **kwargs,
    )


def _filters(form: FilterForm) -> selectors.CheckFilters:
    if not form.is_valid():
        return selectors.CheckFilters()
    d = form.cleaned_data
    return selectors.CheckFilters(
        date_from=d.get("date_from"),
        date_to=d.get("date_to"),
        unit_id=d["unit"].pk if d.get("unit") else None,
        reason=d.get("reason") or "",
        outcome=d.get("outcome") or "",
        state=d.get("state") or "",
        mental_health={"yes": True, "no": False}.get(d.get("mh") or ""),
    )


@requires(Action.CHECK_VIEW)
@never_cache
@agency_time
def check_list(request: HttpRequest) -> HttpResponse:
    actor: Any = request.user
    form = FilterForm(
        request.GET or None,
        codes=selectors.codes_by_category(actor.agency_id),
        units=selectors.units_for(actor, Action.CHECK_VIEW),
    )
    checks = selectors.check_list(actor=actor, filters=_filters(form))
    page = Paginator(checks, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "active_filters": (
            sum(1 for v in form.cleaned_data.values() if v not in (None, ""))
            if form.is_valid()
            else 0
        ),
        "returned": list(selectors.returned_to(actor=actor))
        if can(actor, Action.CHECK_EDIT)
        else [],
        "queue_size": (
            selectors.review_queue(actor=actor).count() if can(actor, Action.CHECK_REVIEW) else None
        ),
    }
    return render(request, "checks/list.html", context)


@requires(Action.CHECK_CREATE)
@never_cache
@agency_time
@require_http_methods(["GET", "POST"])
def check_new(request: HttpRequest) -> HttpResponse:
    actor: Any = request.user
    if request.method == "POST":
        form = _check_form(request, data=request.POST)
        if form.is_valid():
            try:
                check = check_create(actor=actor, data=form.to_input())
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                _say_what_was_stored(request, check)
                return redirect("checks:detail", check_id=check.pk)
        return _render_form(request, form, None, status=400)
    form = _check_form(request, initial=initial_for_new(actor))
    return _render_form(request, form, None)


@requires(Action.CHECK_EDIT)
@never_cache
@agency_time
@require_http_methods(["GET", "POST"])
def check_edit(request: HttpRequest, check_id: uuid.UUID) -> HttpResponse:
    actor: Any = request.user
    check = selectors.check_get(actor=actor, check_id=check_id, action=Action.CHECK_EDIT)
    if check.state not in EDITABLE_STATES:
        messages.error(request, f"A {check.get_state_display().lower()} check cannot be changed.")
        return redirect("checks:detail", check_id=check.pk)
    if request.method == "POST":
        form = _check_form(request, check, data=request.POST)
        if form.is_valid():
            try:
                check = check_update(actor=actor, check=check, data=form.to_input())
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                _say_what_was_stored(request, check)
                return redirect("checks:detail", check_id=check.pk)
        return _render_form(request, form, check, status=400)
    identity = None
    if not check.is_tally:
        reason = require_look_reason(request, check)  # a supervisor editing another's check
        if not isinstance(reason, str):
            return cast(HttpResponse, reason)
        identity = selectors.check_get_identifying(
            actor=actor, check_id=check.pk, reason=f"edit: {reason}" if reason else "edit"
        )
        if identity is None:  # may edit but not read the identity: editing would erase it
            raise Http404("No such check.")
    scopes = selectors.active_consent_scopes(identity)
    form = _check_form(request, check, initial=initial_from_check(check, identity, scopes))
    return _render_form(request, form, check)


def _render_form(
    request: HttpRequest, form: CheckForm, check: WellnessCheck | None, *, status: int = 200
) -> HttpResponse:
    agency = selectors.agency_of(request.user)  # type: ignore[arg-type]
    context = {
        "form": form,
        "check": check,
        "consent_only": agency.record_policy == RecordPolicy.CONSENT_ONLY,
    }
    return render(request, "checks/form.html", context, status=status)


def _say_what_was_stored(request: HttpRequest, check: WellnessCheck) -> None:
    if check.record_mode == RecordMode.TALLY:
        messages.warning(
            request,
            "Saved as a de-identified tally: no consent to ongoing support, so the name, date of "
            "birth, address, narrative and exact times were not kept.",
        )
    else:
        messages.success(request, "Saved as an identifying record.")


@requires(Action.CHECK_VIEW)
@never_cache
@agency_time
def check_detail(request: HttpRequest, check_id: uuid.UUID) -> HttpResponse:
    return _render_detail(request, check_id)


def _render_detail(
    request: HttpRequest,
    check_id: uuid.UUID,
    *,
    extra: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    from wellcheck.checks.forms_review import FollowUpForm, OutcomeReviewForm

    actor: Any = request.user
    check = selectors.check_get(actor=actor, check_id=check_id)
    # A reason for every look (issue 3): outside one's own work, ask first; the reason goes into
    # the check.viewed event.
    reason = require_look_reason(request, check)
    if not isinstance(reason, str):
        return cast(HttpResponse, reason)
    identity = selectors.check_get_identifying(actor=actor, check_id=check.pk, reason=reason)
    # Earlier checks at the same address (blind-index match), shown only beside the identity.
    history = (
        list(prior_checks_at_address(actor=actor, check=check)[:20]) if identity else []
    )
    context: dict[str, Any] = {
        "check": check,
        "identity": identity,
        "address_history": history,
        "editable": check.state in EDITABLE_STATES,
        "allowed": selectors.check_actions(actor=actor, check=check),
        "missing": submit_problems(check) if check.state in EDITABLE_STATES else {},
        "follow_up_form": FollowUpForm(staff=selectors.agency_staff(actor)),
        "outcome_review_form": OutcomeReviewForm(
            codes=selectors.codes_by_category(actor.agency_id)
        ),
    }
    context.update(extra or {})
    return render(request, "checks/detail.html", context, status=status)


FIELD_LABELS = {
    "initiator": "Who asked",
    "reasons": "Reasons for concern",
    "triage": "Triage decision",
    "outcome": "Outcome",
    "state": "State",
}


@requires(Action.CHECK_SUBMIT)
@never_cache
@agency_time
@require_POST
def check_submit_view(request: HttpRequest, check_id: uuid.UUID) -> HttpResponse:
    actor: Any = request.user
    check = selectors.check_get(actor=actor, check_id=check_id, action=Action.CHECK_SUBMIT)
    try:
        check_submit(actor=actor, check=check)
    except ValidationError as error:
        problems = [
            (FIELD_LABELS.get(name, name.replace("_", " ").capitalize()), msg)
            for name, msgs in error.message_dict.items()
            for msg in msgs
        ]
        return _render_detail(request, check.pk, extra={"submit_errors": problems}, status=400)
    messages.success(request, "Submitted for review.")
    return redirect("checks:detail", check_id=check.pk)


@requires(Action.CHECK_MARK_MH)
@never_cache
@agency_time
@require_POST
def check_mark_mh_view(request: HttpRequest, check_id: uuid.UUID) -> HttpResponse:
    actor: Any = request.user
    check = selectors.check_get(actor=actor, check_id=check_id, action=Action.CHECK_MARK_MH)
    related = request.POST.get("related", "yes") != "no"
    check_mark_mental_health(actor=actor, check=check, related=related)
    messages.success(
        request,
        "Marked mental-health related." if related else "No longer marked mental-health related.",
    )
    return redirect("checks:detail", check_id=check.pk)
