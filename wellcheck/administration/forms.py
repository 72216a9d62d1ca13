from __future__ import annotations

from django import forms

from wellcheck.accounts.models import RecordPolicy
from wellcheck.checks.taxonomy import CodeCategory


class PolicyForm(forms.Form):
    record_policy = forms.ChoiceField(choices=RecordPolicy.choices, widget=forms.RadioSelect)
    reason = forms.CharField(
        max_length=500,
        help_text="Why, and the policy document that decided it. Kept in the audit trail.",
    )


class ConsentPeriodForm(forms.Form):
    consent_valid_days = forms.IntegerField(
        min_value=30,
        max_value=730,
        label="Consent holds for (days)",
        help_text="Consent lapses unless renewed; a lapse in a consent-only agency de-identifies.",
    )


class CodeForm(forms.Form):
    category = forms.ChoiceField(choices=CodeCategory.choices)
    code = forms.CharField(max_length=40, help_text="Short key, e.g. 'hoarding'.")
    label = forms.CharField(max_length=200)
