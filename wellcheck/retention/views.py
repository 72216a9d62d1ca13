"""The records officer's retention pages (thin views): the queue of due review tasks with keep
(with a reason) or dispose decisions; seal, unseal, restrict, lift a restriction, or expunge one
check, each with a reason, expunge after a confirmation step. Records through ``restrict``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from wellcheck.accounts.permissions import Action
from wellcheck.checks.models import WellnessCheck
from wellcheck.core.errors import ServiceError
from wellcheck.core.routes import requires
from wellcheck.retention import protection
from wellcheck.retention.forms import (
    EvidenceReasonForm,
    ExpungeForm,
    ProtectForm,
    ReviewDecideForm,
)
from wellcheck.retention.models import ProtectedRecord, RetentionReview
from wellcheck.retention.reviews import review_decide

PROTECT: dict[str, Callable[..., Any]] = {
    "seal": protection.record_seal,
    "unseal": protection.record_unseal,
    "restrict": protection.record_restrict,
    "unrestrict": protection.record_unrestrict,
}
DONE = {
    "seal": "Record sealed.",
    "unseal": "Record unsealed.",
    "restrict": "Record restricted.",
    "unrestrict": "Restriction lifted.",
}


def _add_errors(form: Any, exc: ServiceError) -> None:
    for field, errors in getattr(exc, "message_dict", {"__all__": exc.messages}).items():
        form.add_error(field if field in form.fields else None, errors)


def _queue(request: HttpRequest, forms: dict[int, ReviewDecideForm] | None = None) -> HttpResponse:
    reviews = list(
        RetentionReview.objects.restrict(request.user, Action.RETENTION_REVIEW)
        .filter(decided_at__isnull=True, due_on__lte=timezone.localdate())
        .order_by("due_on")[:200]
    )
    forms = forms or {}
    rows = [(r, forms.get(r.pk) or ReviewDecideForm(prefix=f"r{r.pk}")) for r in reviews]
    return render(request, "retention/queue.html", {"rows": rows}, status=400 if forms else 200)


@requires(Action.RETENTION_REVIEW)
def review_queue(request: HttpRequest) -> HttpResponse:
    return _queue(request)


@requires(Action.RETENTION_REVIEW)
@require_POST
def review_decide_view(request: HttpRequest, review_id: int) -> HttpResponse:
    review = (
        RetentionReview.objects.restrict(request.user, Action.RETENTION_REVIEW)
        .filter(pk=review_id, decided_at__isnull=True)
        .first()
    )
    if review is None:
        raise Http404("No such review.")
    form = ReviewDecideForm(request.POST, prefix=f"r{review.pk}")
    if form.is_valid():
        try:
            review_decide(
                actor=request.user,
                review=review,
                decision=form.cleaned_data["decision"],
                reason=form.cleaned_data["reason"],
            )
        except ServiceError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "Decision recorded.")
            return redirect("retention:reviews")
    return _queue(request, {review.pk: form})


def _check(request: HttpRequest, check_id: uuid.UUID) -> WellnessCheck:
    check = (
        WellnessCheck.objects.restrict(request.user, Action.RECORD_PROTECT)
        .filter(pk=check_id)
        .first()
    )
    if check is None:
        raise Http404("No such check.")
    return check


@requires(Action.RECORD_PROTECT)
@require_http_methods(["GET", "POST"])
def check_protection(request: HttpRequest, check_id: uuid.UUID) -> HttpResponse:
    check = _check(request, check_id)
    form = ProtectForm(request.POST or None)
    if form.is_bound and form.is_valid():
        action = form.cleaned_data["action"]
        try:
            PROTECT[action](actor=request.user, check=check, reason=form.cleaned_data["reason"])
        except ServiceError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, DONE[action])
            return redirect("retention:check", check_id=check.pk)
    record = ProtectedRecord.objects.filter(pk=check.pk).only("mechanism", "reason").first()
    return render(
        request,
        "retention/check.html",
        {"check": check, "record": record, "form": form},
        status=400 if form.is_bound else 200,
    )


@requires(Action.RECORD_PROTECT)
@require_http_methods(["GET", "POST"])
def check_expunge(request: HttpRequest, check_id: uuid.UUID) -> HttpResponse:
    check = _check(request, check_id)
    form = ExpungeForm(request.POST or None)
    if form.is_bound and form.is_valid():
        try:
            protection.record_expunge(
                actor=request.user, check=check, reason=form.cleaned_data["reason"]
            )
        except ServiceError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "The check was expunged.")
            return redirect("retention:reviews")
    return render(
        request,
        "retention/expunge.html",
        {"check": check, "form": form},
        status=400 if form.is_bound else 200,
    )


@requires(Action.RECORD_PROTECTED_VIEW)
@require_http_methods(["GET", "POST"])
def restricted_read(request: HttpRequest, check_id: uuid.UUID) -> HttpResponse:
    """Read a restricted record for evidence with a stated reason (audited by the service)."""
    check = (
        WellnessCheck.objects.restrict(request.user, Action.RECORD_PROTECTED_VIEW)
        .filter(pk=check_id)
        .first()
    )
    if check is None:
        raise Http404("No such check.")
    form = EvidenceReasonForm(request.POST or None)
    payload = None
    if form.is_bound and form.is_valid():
        try:
            payload = protection.protected_record_view(
                actor=request.user, check_id=check.pk, reason=form.cleaned_data["reason"]
            )
        except ServiceError as exc:
            _add_errors(form, exc)
    record = (
        ProtectedRecord.objects.restrict(request.user, Action.RECORD_PROTECTED_VIEW)
        .filter(pk=check.pk)
        .only("mechanism")
        .first()
    )
    return render(
        request,
        "retention/evidence.html",
        {"check": check, "record": record, "form": form, "payload": payload},
        status=400 if form.is_bound and payload is None else 200,
    )
