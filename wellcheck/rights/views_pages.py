"""The records officer's rights pages (thin views): the list of requests with due dates, opening a
subject access request for a person and answering it, opening and deciding rectification,
erasure and restriction requests. Everything through ``restrict(actor, rights.manage)``."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from wellcheck.accounts.permissions import Action
from wellcheck.core.errors import ServiceError
from wellcheck.core.routes import requires
from wellcheck.people.models import Person
from wellcheck.rights import services
from wellcheck.rights.forms import AccessAnswerForm, AccessOpenForm, DecideForm, RightsOpenForm
from wellcheck.rights.models import (
    RequestStatus,
    RightsKind,
    RightsRequest,
    SubjectAccessRequest,
)

A = Action.SUBJECT_RIGHTS


def _person(request: HttpRequest, person_id: uuid.UUID) -> Person:
    person = Person.objects.restrict(request.user, A).filter(pk=person_id).first()
    if person is None:
        raise Http404("No such person.")
    return person


def _errors_to_form(form: Any, exc: ServiceError) -> None:
    """Put a service's refusal on the field it names (or on the form)."""
    for field, errors in getattr(exc, "message_dict", {"__all__": exc.messages}).items():
        form.add_error(field if field in form.fields else None, errors)


@requires(A)
def request_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    access = SubjectAccessRequest.objects.restrict(request.user, A).order_by("due_on")
    others = RightsRequest.objects.restrict(request.user, A).order_by("due_on")
    return render(
        request,
        "rights/list.html",
        {"access": access, "others": others, "today": today, "OPEN": RequestStatus.OPEN},
    )


@requires(A)
@require_http_methods(["GET", "POST"])
def access_new(request: HttpRequest, person_id: uuid.UUID) -> HttpResponse:
    person = _person(request, person_id)
    form = AccessOpenForm(request.POST or None)
    if form.is_bound and form.is_valid():
        try:
            sar = services.subject_access_open(
                actor=request.user,
                person=person,
                requester=form.cleaned_data["requester"],
                identity_checked=form.cleaned_data["identity_checked"],
                received_on=form.cleaned_data["received_on"],
            )
        except ServiceError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, f"Subject access request opened; due {sar.due_on}.")
            return redirect("rights:access_detail", sar_id=sar.pk)
    return render(request, "rights/access_new.html", {"form": form, "person": person})


@requires(A)
@require_http_methods(["GET", "POST"])
def access_detail(request: HttpRequest, sar_id: uuid.UUID) -> HttpResponse:
    sar = SubjectAccessRequest.objects.restrict(request.user, A).filter(pk=sar_id).first()
    if sar is None:
        raise Http404("No such request.")
    form = AccessAnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.subject_access_answer(
                actor=request.user, request=sar, redactions=form.cleaned_data["redactions"]
            )
        except ServiceError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, "The answer is ready to download and send.")
            return redirect("rights:access_detail", sar_id=sar.pk)
    return render(
        request,
        "rights/access_detail.html",
        {
            "sar": sar,
            "form": form,
            "redactions": sar.redactions.all(),
            "answer": sar.answer or None,
            "overdue": sar.status == RequestStatus.OPEN and timezone.localdate() > sar.due_on,
        },
    )


@requires(A)
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest, person_id: uuid.UUID) -> HttpResponse:
    person = _person(request, person_id)
    form = RightsOpenForm(request.POST or None)
    if form.is_bound and form.is_valid():
        try:
            row = services.rights_request_open(
                actor=request.user,
                person=person,
                kind=form.cleaned_data["kind"],
                request_text=form.cleaned_data["request_text"],
                received_on=form.cleaned_data["received_on"],
            )
        except ServiceError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, f"Request recorded; due {row.due_on}.")
            return redirect("rights:request_detail", request_id=row.pk)
    return render(request, "rights/request_new.html", {"form": form, "person": person})


def _decide(request: HttpRequest, row: RightsRequest, form: DecideForm) -> None:
    data = form.cleaned_data
    common = {"actor": request.user, "request": row, "status": data["status"]}
    if row.kind == RightsKind.RECTIFICATION:
        services.rectification_decide(
            **common,
            outcome=data["outcome"],
            corrections=form.corrections(),
            supplementary_statement=data["supplementary_statement"],
        )
    elif row.kind == RightsKind.ERASURE:
        services.erasure_decide(
            **common, outcome=data["outcome"], restrict_instead=data["restrict_instead"]
        )
    else:
        services.restriction_decide(**common, outcome=data["outcome"])


@requires(A)
@require_http_methods(["GET", "POST"])
def request_detail(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    row = RightsRequest.objects.restrict(request.user, A).filter(pk=request_id).first()
    if row is None:
        raise Http404("No such request.")
    form = DecideForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _decide(request, row, form)
        except ServiceError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, "Decision recorded.")
            return redirect("rights:request_detail", request_id=row.pk)
    return render(request, "rights/request_detail.html", {"row": row, "form": form})
