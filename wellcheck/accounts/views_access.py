"""Pages for a reason for a look, breaking the glass, the review queue and the grant matrix."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from wellcheck.accounts import breakglass
from wellcheck.accounts.forms import BreakGlassForm, BreakGlassReviewForm, LookReasonForm
from wellcheck.accounts.grants import effective_matrix, grant_set
from wellcheck.accounts.looks import format_reason, look_reason_remember
from wellcheck.accounts.permissions import Action, Role, Scope
from wellcheck.accounts.views import safe_next
from wellcheck.core.errors import ServiceError
from wellcheck.core.routes import requires


@requires(Action.CHECK_VIEW_IDENTITY)
def look_reason(request: HttpRequest, check_id: uuid.UUID) -> HttpResponse:
    """Ask why the actor opens a check's identifying part; remember it for a while."""
    from wellcheck.checks.models import WellnessCheck

    check = (
        WellnessCheck.objects.restrict(request.user, Action.CHECK_VIEW_IDENTITY)
        .filter(pk=check_id)
        .first()
    )
    if check is None:
        raise Http404("No such check.")
    form = LookReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        reason = format_reason(form.cleaned_data["reason"], form.cleaned_data["reason_text"] or "")
        if reason is not None:
            look_reason_remember(request, check, reason)
            return redirect(safe_next(request))
    return render(
        request,
        "accounts/look_reason.html",
        {"form": form, "check": check, "next": safe_next(request)},
    )


@requires(Action.BREAK_GLASS)
def break_glass(request: HttpRequest) -> HttpResponse:
    """Emergency access to one check outside one's scope (time-limited, notified, reviewed)."""
    initial = {"check_id": request.GET.get("check")} if request.GET.get("check") else None
    form = BreakGlassForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            access = breakglass.break_glass_open(
                actor=request.user,  # type: ignore[arg-type]
                check_id=form.cleaned_data["check_id"],
                reason_code=form.cleaned_data["reason_code"],
                reason_text=form.cleaned_data["reason_text"],
            )
        except ServiceError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.warning(
                request,
                f"Emergency access open until {access.expires_at:%H:%M} UTC. "
                "Your supervisor and the privacy officer have been told.",
            )
            return redirect(_check_page(access.check_record_id))
    return render(request, "accounts/break_glass.html", {"form": form})


def _check_page(check_id: uuid.UUID) -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("checks:detail", args=[check_id])
    except NoReverseMatch:
        return reverse("checks:list")


@requires(Action.BREAK_GLASS_REVIEW)
def break_glass_review_queue(request: HttpRequest) -> HttpResponse:
    """The privacy officer's queue of emergency accesses to review."""
    form = BreakGlassReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            breakglass.break_glass_review(
                actor=request.user,  # type: ignore[arg-type]
                access_id=form.cleaned_data["access_id"],
                finding=form.cleaned_data["finding"],
                note=form.cleaned_data["note"] or "",
            )
        except ServiceError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Review recorded.")
        return redirect("accounts:break_glass_review_queue")
    return render(
        request,
        "accounts/break_glass_queue.html",
        {"items": breakglass.review_queue(request.user)},  # type: ignore[arg-type]
    )


@requires(Action.USER_MANAGE)
def grants(request: HttpRequest) -> HttpResponse:
    """The agency's effective grant matrix; an administrator changes one cell at a time."""
    agency = request.user.agency  # type: ignore[union-attr]
    if agency is None:  # @requires already refuses agency-less users; this narrows the type
        raise Http404("No agency.")
    if request.method == "POST":
        raw = request.POST.get("scope", "")
        scope = Scope[raw.upper()] if raw.upper() in Scope.__members__ else None
        try:
            grant_set(
                actor=request.user,  # type: ignore[arg-type]
                agency=agency,
                role=request.POST.get("role", ""),
                action=request.POST.get("action", ""),
                scope=scope,
                reason=request.POST.get("reason", ""),
            )
        except ServiceError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Grant changed.")
        return redirect("accounts:grants")
    matrix = effective_matrix(agency)
    rows = [
        (Action(action).label, action, [(role, matrix[role][action]) for role in Role.values])
        for action in Action.values
    ]
    return render(
        request,
        "accounts/grants.html",
        {"rows": rows, "roles": Role.choices, "scopes": [s.name.lower() for s in Scope]},
    )
