"""Forms for the rights pages; the services check the rules, the forms only shape the input."""

from __future__ import annotations

from typing import Any

from django import forms

from wellcheck.rights.models import RequestStatus, RightsKind


class AccessOpenForm(forms.Form):
    requester = forms.CharField(label="Who asked (the person or their agent)", max_length=200)
    identity_checked = forms.CharField(
        label="How the identity was verified", widget=forms.Textarea(attrs={"rows": 2})
    )
    received_on = forms.DateField(label="Received on (YYYY-MM-DD)", required=False)


class AccessAnswerForm(forms.Form):
    redactions = forms.CharField(
        label="Items withheld, one a line: item | reason "
        "(e.g. checks[0].narrative | names a third party)",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )

    def clean_redactions(self) -> list[tuple[str, str]]:
        out = []
        for n, line in enumerate(self.cleaned_data.get("redactions", "").splitlines(), 1):
            if not line.strip():
                continue
            item, sep, reason = line.partition("|")
            if not sep or not item.strip() or not reason.strip():
                raise forms.ValidationError(f"Line {n}: write the item, a bar |, then the reason.")
            out.append((item.strip(), reason.strip()))
        return out


class RightsOpenForm(forms.Form):
    kind = forms.ChoiceField(label="Kind of request", choices=RightsKind.choices)
    request_text = forms.CharField(
        label="What the person asks", widget=forms.Textarea(attrs={"rows": 3})
    )
    received_on = forms.DateField(label="Received on (YYYY-MM-DD)", required=False)


DECISIONS = [
    (RequestStatus.GRANTED.value, RequestStatus.GRANTED.label),
    (RequestStatus.PARTLY.value, RequestStatus.PARTLY.label),
    (RequestStatus.REFUSED.value, RequestStatus.REFUSED.label),
]


class DecideForm(forms.Form):
    status = forms.ChoiceField(label="Decision", choices=DECISIONS)
    outcome = forms.CharField(
        label="Written outcome, with reasons", widget=forms.Textarea(attrs={"rows": 4})
    )
    # rectification
    given_name = forms.CharField(label="Corrected given name", max_length=200, required=False)
    family_name = forms.CharField(label="Corrected family name", max_length=200, required=False)
    date_of_birth = forms.DateField(label="Corrected birth date (YYYY-MM-DD)", required=False)
    supplementary_statement = forms.CharField(
        label="The person's supplementary statement",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    # erasure
    restrict_instead = forms.BooleanField(
        label="Restrict instead of erasing (needed as evidence, or accuracy contested)",
        required=False,
    )

    def corrections(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            k: data[k]
            for k in ("given_name", "family_name", "date_of_birth")
            if data.get(k) not in (None, "")
        }
