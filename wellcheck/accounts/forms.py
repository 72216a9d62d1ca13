"""Forms for sign-in steps, reasons and emergency access. Validation only; services decide."""

from __future__ import annotations

from django import forms

from wellcheck.accounts.looks import REASONS
from wellcheck.accounts.models_access import BreakGlassReason


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
    )


class LookReasonForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why do you need to see this person's details?",
        choices=list(REASONS.items()),
        widget=forms.RadioSelect,
    )
    reason_text = forms.CharField(
        label="Details",
        max_length=300,
        required=False,
        help_text="Required for 'Other'. Kept in the audit trail with this read.",
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("reason") == "other" and len((data.get("reason_text") or "").strip()) < 5:
            self.add_error("reason_text", "Say why in a few words (at least 5 characters).")
        return data


class BreakGlassForm(forms.Form):
    check_id = forms.UUIDField(label="Check id", help_text="The id of the check you need to open.")
    reason_code = forms.ChoiceField(
        label="Emergency", choices=BreakGlassReason.choices, widget=forms.RadioSelect
    )
    reason_text = forms.CharField(
        label="What is happening",
        max_length=300,
        min_length=10,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Your supervisor and the privacy officer are told, and the access is reviewed.",
    )


class BreakGlassReviewForm(forms.Form):
    access_id = forms.IntegerField(widget=forms.HiddenInput)
    finding = forms.ChoiceField(
        choices=[("justified", "Justified"), ("unjustified", "Not justified: refer")],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(max_length=500, required=False, label="Note")
