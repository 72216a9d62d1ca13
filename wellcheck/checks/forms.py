"""Forms for the check pages: they parse and check the shape of input, then hand a typed
``CheckInput`` to the services. No business rule lives here (the services decide and explain)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from wellcheck.accounts.models import Unit, User
from wellcheck.checks.inputs import CheckInput, ConsentInput, PersonInput
from wellcheck.checks.models import CheckState, Code
from wellcheck.checks.taxonomy import CodeCategory
from wellcheck.people.models import ConsentMethod, ConsentScope

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
YES_NO = [("", "Not recorded"), ("yes", "Yes"), ("no", "No")]


def _dt_widget() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT)


def date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def code_choices(codes: list[Code], *, blank: str | None = None) -> list[tuple[str, str]]:
    choices = [(c.code, c.label) for c in codes]
    return [("", blank), *choices] if blank is not None else choices


def set_choices(form: forms.Form, name: str, choices: list[tuple[str, str]]) -> None:
    cast(forms.ChoiceField, form.fields[name]).choices = choices


def _as_yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


class CheckForm(forms.Form):
    """Everything an officer can record; only unit and time received are needed for a draft."""

    unit = forms.ModelChoiceField(
        queryset=Unit.objects.none(), label="Unit (beat)", empty_label=None
    )
    received_at = forms.DateTimeField(label="Call received", widget=_dt_widget())
    incident_number = forms.CharField(label="Incident number", max_length=40, required=False)
    initiator = forms.ChoiceField(label="Who asked", required=False)
    reasons = forms.MultipleChoiceField(
        label="Reasons for concern", required=False, widget=forms.CheckboxSelectMultiple
    )
    address = forms.CharField(
        label="Block address or intersection",
        max_length=300,
        required=False,
        help_text="The block, not the house number, e.g. 3700 BLOCK 5TH AVE.",
    )
    latitude = forms.DecimalField(
        label="Latitude",
        required=False,
        max_digits=9,
        decimal_places=6,
        min_value=Decimal(-90),
        max_value=Decimal(90),
    )
    longitude = forms.DecimalField(
        label="Longitude",
        required=False,
        max_digits=9,
        decimal_places=6,
        min_value=Decimal(-180),
        max_value=Decimal(180),
    )
    triage = forms.ChoiceField(label="Triage decision", required=False, widget=forms.RadioSelect)
    triage_rationale = forms.CharField(
        label="Why (triage rationale)", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    caller_told = forms.ChoiceField(
        label="Was the caller told whether police would attend?",
        choices=YES_NO,
        required=False,
        widget=forms.RadioSelect,
    )
    dispatched_at = forms.DateTimeField(label="Dispatched", required=False, widget=_dt_widget())
    arrived_at = forms.DateTimeField(label="Arrived", required=False, widget=_dt_widget())
    cleared_at = forms.DateTimeField(label="Cleared", required=False, widget=_dt_widget())
    responders = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(),
        label="Responders",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    co_responder_present = forms.ChoiceField(
        label="Co-responder (clinician) present",
        choices=YES_NO,
        required=False,
        widget=forms.RadioSelect,
    )
    observed = forms.MultipleChoiceField(
        label="Observed", required=False, widget=forms.CheckboxSelectMultiple
    )
    outcome = forms.ChoiceField(label="Outcome", required=False)
    referrals = forms.MultipleChoiceField(
        label="Referrals", required=False, widget=forms.CheckboxSelectMultiple
    )
    mental_health_related = forms.BooleanField(label="Mental-health related", required=False)
    narrative = forms.CharField(
        label="Narrative", required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    given_name = forms.CharField(label="Given name", max_length=100, required=False)
    family_name = forms.CharField(label="Family name", max_length=100, required=False)
    date_of_birth = forms.DateField(label="Date of birth", required=False, widget=date_widget())
    aliases = forms.CharField(
        label="Aliases",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One name per line.",
    )
    consent_scopes = forms.MultipleChoiceField(
        label="The person consents to",
        choices=ConsentScope.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    consent_method = forms.ChoiceField(
        label="How consent was given", choices=ConsentMethod.choices, required=False
    )
    service_name = forms.CharField(
        label="Service named for sharing", max_length=200, required=False
    )
    consent_taken_at = forms.DateTimeField(
        label="Consent taken at",
        required=False,
        widget=_dt_widget(),
        help_text="Leave empty for now. You are recorded as the officer who took it.",
    )

    GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("Call", ("unit", "received_at", "incident_number", "initiator", "reasons")),
        ("Location", ("address", "latitude", "longitude")),
        ("Triage", ("triage", "triage_rationale", "caller_told")),
        (
            "Response",
            ("dispatched_at", "arrived_at", "cleared_at", "responders", "co_responder_present"),
        ),
        (
            "Findings and outcome",
            ("observed", "outcome", "referrals", "mental_health_related", "narrative"),
        ),
        ("Person", ("given_name", "family_name", "date_of_birth", "aliases")),
        (
            "Consent to ongoing support",
            ("consent_scopes", "consent_method", "service_name", "consent_taken_at"),
        ),
    )

    def __init__(
        self,
        *args: Any,
        codes: dict[str, list[Code]],
        units: QuerySet[Unit],
        staff: QuerySet[User],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        f = self.fields
        f["unit"].queryset = units  # type: ignore[attr-defined]
        f["responders"].queryset = staff  # type: ignore[attr-defined]
        f["responders"].label_from_instance = lambda u: u.display_name  # type: ignore[attr-defined]
        set_choices(
            self, "initiator", code_choices(codes[CodeCategory.INITIATOR], blank="Not recorded")
        )
        set_choices(self, "reasons", code_choices(codes[CodeCategory.REASON]))
        set_choices(self, "triage", code_choices(codes[CodeCategory.TRIAGE]))
        set_choices(self, "observed", code_choices(codes[CodeCategory.OBSERVED]))
        set_choices(
            self, "outcome", code_choices(codes[CodeCategory.OUTCOME], blank="Not recorded")
        )
        set_choices(self, "referrals", code_choices(codes[CodeCategory.REFERRAL]))

    def groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(legend, [self[name] for name in names]) for legend, names in self.GROUPS]

    def clean_aliases(self) -> tuple[str, ...]:
        raw: str = self.cleaned_data.get("aliases") or ""
        return tuple(line.strip() for line in raw.splitlines() if line.strip())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        lat, lon = data.get("latitude"), data.get("longitude")
        if (
            (lat is None) != (lon is None)
            and not self.has_error("latitude")
            and not self.has_error("longitude")
        ):
            missing = "longitude" if lon is None else "latitude"
            self.add_error(missing, "Give both latitude and longitude, or neither.")
        return data

    def to_input(self) -> CheckInput:
        d = self.cleaned_data
        scopes = tuple(d.get("consent_scopes") or ())
        consent = None
        if scopes:
            consent = ConsentInput(
                scopes=scopes,
                method=d.get("consent_method") or ConsentMethod.VERBAL,
                taken_at=d.get("consent_taken_at"),
                service_name=d.get("service_name") or "",
            )
        return CheckInput(
            unit_id=d["unit"].pk,
            received_at=d["received_at"],
            incident_number=d.get("incident_number") or "",
            initiator=d.get("initiator") or "",
            reasons=tuple(d.get("reasons") or ()),
            address=d.get("address") or "",
            latitude=d.get("latitude"),
            longitude=d.get("longitude"),
            triage=d.get("triage") or "",
            triage_rationale=d.get("triage_rationale") or "",
            caller_told=_yes_no(d.get("caller_told") or ""),
            dispatched_at=d.get("dispatched_at"),
            arrived_at=d.get("arrived_at"),
            cleared_at=d.get("cleared_at"),
            responder_ids=tuple(u.pk for u in d.get("responders") or ()),
            co_responder_present=_yes_no(d.get("co_responder_present") or ""),
            observed=tuple(d.get("observed") or ()),
            outcome=d.get("outcome") or "",
            referrals=tuple(d.get("referrals") or ()),
            mental_health_related=bool(d.get("mental_health_related")),
            narrative=d.get("narrative") or "",
            person=PersonInput(
                given_name=d.get("given_name") or "",
                family_name=d.get("family_name") or "",
                date_of_birth=d.get("date_of_birth"),
                aliases=d.get("aliases") or (),
            ),
            consent=consent,
        )


def initial_for_new(actor: User) -> dict[str, Any]:
    now = timezone.localtime().replace(second=0, microsecond=0)
    return {"unit": actor.unit_id, "received_at": now, "consent_method": ConsentMethod.VERBAL}


def initial_from_check(check: Any, identity: Any, consent_scopes: list[str]) -> dict[str, Any]:
    """Form values from a stored check (and its identity, when the actor may read it)."""
    initial: dict[str, Any] = {
        "unit": check.unit_id,
        "received_at": timezone.localtime(check.received_at),
        "initiator": check.initiator.code if check.initiator else "",
        "reasons": [c.code for c in check.reasons.all()],
        "triage": check.triage.code if check.triage else "",
        "caller_told": _as_yes_no(check.caller_told),
        "co_responder_present": _as_yes_no(check.co_responder_present),
        "observed": [c.code for c in check.observed.all()],
        "outcome": check.outcome.code if check.outcome else "",
        "referrals": [c.code for c in check.referrals.all()],
        "mental_health_related": check.mental_health_related,
        "consent_scopes": consent_scopes,
        "consent_method": ConsentMethod.VERBAL,
    }
    if identity is not None:
        detail = identity.detail
        local = {
            k: timezone.localtime(getattr(detail, k)) if getattr(detail, k) else None
            for k in ("dispatched_at", "arrived_at", "cleared_at")
        }
        initial.update(local)
        initial.update(
            incident_number=detail.incident_number,
            address=detail.address,
            latitude=detail.latitude,
            longitude=detail.longitude,
            triage_rationale=detail.triage_rationale,
            narrative=detail.narrative,
            responders=[u.pk for u in identity.responders],
        )
        if detail.person is not None:
            initial.update(
                given_name=detail.person.given_name,
                family_name=detail.person.family_name,
                date_of_birth=detail.person.date_of_birth,
                aliases="\n".join(detail.person.aliases or []),
            )
    return initial


class FilterForm(forms.Form):
    """The list's filters (GET). Invalid values are reported and ignored."""

    date_from = forms.DateField(label="From", required=False, widget=date_widget())
    date_to = forms.DateField(label="To", required=False, widget=date_widget())
    unit = forms.ModelChoiceField(
        queryset=Unit.objects.none(), label="Unit (beat)", required=False, empty_label="All units"
    )
    reason = forms.ChoiceField(label="Reason", required=False)
    outcome = forms.ChoiceField(label="Outcome", required=False)
    state = forms.ChoiceField(
        label="State", required=False, choices=[("", "Any state"), *CheckState.choices]
    )
    mh = forms.ChoiceField(
        label="Mental-health related",
        required=False,
        choices=[("", "Either"), ("yes", "Yes"), ("no", "No")],
    )

    def __init__(
        self, *args: Any, codes: dict[str, list[Code]], units: QuerySet[Unit], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        set_choices(self, "reason", code_choices(codes[CodeCategory.REASON], blank="Any reason"))
        set_choices(self, "outcome", code_choices(codes[CodeCategory.OUTCOME], blank="Any outcome"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date is before the start date.")
        return data


def apply_service_errors(
    form: forms.Form, error: Any, *, aliases: dict[str, str] | None = None
) -> None:
    """Put each error a service raised on the form field it names (or on the form as a whole)."""
    aliases = aliases or {}
    messages = getattr(error, "message_dict", None) or {"__all__": list(error.messages)}
    for name, problems in messages.items():
        target = aliases.get(name, name)
        for problem in problems:
            if target in form.fields:
                form.add_error(target, problem)
            else:
                label = name.replace("_", " ")
                form.add_error(None, problem if name == "__all__" else f"{label}: {problem}")
