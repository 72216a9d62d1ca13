"""The administrator's agency settings: record policy, consent period, agency codes."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from wellcheck.accounts.models import Agency
from wellcheck.accounts.permissions import Action
from wellcheck.accounts.services import agency_set_record_policy
from wellcheck.administration.forms import CodeForm, ConsentPeriodForm, PolicyForm
from wellcheck.administration.services import (
    agency_set_consent_period,
    code_create,
    code_set_active,
)
from wellcheck.checks.models import Code
from wellcheck.core.routes import requires


def _agency(request: HttpRequest) -> Agency:
    return Agency.objects.get(pk=request.user.agency_id)  # type: ignore[union-attr]


def _apply_errors(form: forms.Form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        target = field if field in form.fields else None
        for error in errors:
            form.add_error(target, error)


@requires(Action.POLICY_CHANGE)
def agency_settings(request: HttpRequest) -> HttpResponse:
    agency = _agency(request)
    policy_form = PolicyForm(initial={"record_policy": agency.record_policy}, prefix="policy")
    period_form = ConsentPeriodForm(
        initial={"consent_valid_days": agency.consent_valid_days}, prefix="period"
    )
    if request.method == "POST":
        if "policy-record_policy" in request.POST:
            policy_form = PolicyForm(request.POST, prefix="policy")
            if policy_form.is_valid():
                try:
                    agency_set_record_policy(
                        actor=request.user,  # type: ignore[arg-type]
                        agency=agency,
                        policy=policy_form.cleaned_data["record_policy"],
                        reason=policy_form.cleaned_data["reason"],
                    )
                except ValidationError as exc:
                    _apply_errors(policy_form, exc)
                else:
                    messages.success(request, "Record policy saved. Past records are unchanged.")
                    return redirect("administration:agency")
        else:
            period_form = ConsentPeriodForm(request.POST, prefix="period")
            if period_form.is_valid():
                try:
                    agency_set_consent_period(
                        actor=request.user,  # type: ignore[arg-type]
                        agency=agency,
                        days=period_form.cleaned_data["consent_valid_days"],
                    )
                except ValidationError as exc:
                    _apply_errors(period_form, exc)
                else:
                    messages.success(request, "Consent period saved.")
                    return redirect("administration:agency")
    return render(
        request,
        "administration/agency.html",
        {"agency": agency, "policy_form": policy_form, "period_form": period_form},
        status=400 if request.method == "POST" else 200,
    )


@requires(Action.POLICY_CHANGE)
def code_list(request: HttpRequest) -> HttpResponse:
    agency = _agency(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            code_create(actor=request.user, agency=agency, **form.cleaned_data)  # type: ignore[arg-type]
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "Code added.")
            return redirect("administration:codes")
    codes = Code.objects.filter(Q(agency__isnull=True) | Q(agency=agency)).order_by(
        "category", "agency_id", "sort_order", "label"
    )
    return render(
        request,
        "administration/codes.html",
        {"codes": codes, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@requires(Action.POLICY_CHANGE)
def code_toggle(request: HttpRequest, code_id: int) -> HttpResponse:
    code = Code.objects.filter(pk=code_id, agency_id=request.user.agency_id).first()  # type: ignore[union-attr]
    if code is None:
        raise Http404("No such code of your agency.")
    code_set_active(actor=request.user, code=code, active=not code.active)  # type: ignore[arg-type]
    return redirect("administration:codes")
