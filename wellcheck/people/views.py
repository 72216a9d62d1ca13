"""The person pages (thin views): forgiving search, then one person's page. Opening a person
asks the reason once (kept in the session) and writes ``person.viewed`` with it. Records are
reached only through ``restrict`` (404 for a person outside the actor's scope)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from wellcheck.accounts.permissions import Action, can
from wellcheck.audit.events import EventType
from wellcheck.audit.services import audit_record
from wellcheck.checks.models import WellnessCheck
from wellcheck.core.errors import ServiceError
from wellcheck.core.routes import requires
from wellcheck.people.forms import LookReasonForm, PersonSearchForm
from wellcheck.people.looks import person_look_reason, person_look_remember
from wellcheck.people.models import Person
from wellcheck.people.selectors import person_search
from wellcheck.people.services import consent_withdraw


def _person(request: HttpRequest, person_id: uuid.UUID) -> Person:
    person = Person.objects.restrict(request.user, Action.PERSON_VIEW).filter(pk=person_id).first()
    if person is None:
        raise Http404("No such person.")
    return person


@requires(Action.PERSON_VIEW)
def search(request: HttpRequest) -> HttpResponse:
    form = PersonSearchForm(request.GET or None)
    matches = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        matches = person_search(
            actor=request.user,
            name=data.get("name", ""),
            birth_date=data.get("birth_date"),
            birth_year=data.get("birth_year"),
        )
    return render(request, "people/search.html", {"form": form, "matches": matches})


@requires(Action.PERSON_VIEW)
@require_http_methods(["GET", "POST"])
def person_page(request: HttpRequest, person_id: uuid.UUID) -> HttpResponse:
    person = _person(request, person_id)
    reason = person_look_reason(request, person.pk)
    if reason is None:
        form = LookReasonForm(request.POST or None)
        if form.is_bound and form.is_valid():
            person_look_remember(request, person.pk, form.cleaned_data["formatted"])
            return redirect("people:detail", person_id=person.pk)
        return render(request, "people/reason.html", {"form": form, "person": person})
    audit_record(
        actor=request.user, event_type=EventType.PERSON_VIEWED, target=person, reason=reason
    )
    checks = (
        WellnessCheck.objects.restrict(request.user, Action.CHECK_VIEW)
        .filter(detail__person=person)
        .order_by("-received_at")
    )
    consents = person.consents.all() if can(request.user, Action.CONSENT_MANAGE) else None
    return render(
        request,
        "people/person.html",
        {"person": person, "checks": checks, "consents": consents, "reason": reason},
    )


@requires(Action.CONSENT_MANAGE)
@require_POST
def consent_withdraw_view(
    request: HttpRequest, person_id: uuid.UUID, consent_id: int
) -> HttpResponse:
    person = (
        Person.objects.restrict(request.user, Action.CONSENT_MANAGE).filter(pk=person_id).first()
    )
    consent = person.consents.filter(pk=consent_id).first() if person else None
    if consent is None:
        raise Http404("No such consent.")
    try:
        deidentified = consent_withdraw(actor=request.user, consent=consent)
    except ServiceError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("people:detail", person_id=person_id)
    messages.success(
        request,
        "Consent withdrawn; the person's checks are now tallies."
        if deidentified
        else "Consent withdrawn.",
    )
    if deidentified:
        return redirect("people:search")
    return redirect("people:detail", person_id=person_id)
