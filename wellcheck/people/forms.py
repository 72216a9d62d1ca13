"""Forms for the person pages: search, the reason for a look."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from wellcheck.accounts.looks import REASONS, format_reason


class PersonSearchForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200, required=False)
    birth_date = forms.DateField(label="Birth date (YYYY-MM-DD)", required=False)
    birth_year = forms.IntegerField(label="Birth year", required=False, min_value=1880)

    def clean_birth_year(self) -> int | None:
        year = self.cleaned_data.get("birth_year")
        if year is not None and year > timezone.localdate().year:
            raise forms.ValidationError("The birth year is in the future.")
        return year

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("name", "").strip() or data.get("birth_date")):
            self.add_error("name", "Give a family name, or a birth date.")
        return data


class LookReasonForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why are you opening this person's record?",
        choices=[("", "Choose…"), *REASONS.items()],
    )
    reason_text = forms.CharField(label="Details", max_length=300, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("reason"):
            text = format_reason(data["reason"], data.get("reason_text", ""))
            if text is None:
                self.add_error("reason_text", "Explain the reason (at least 5 characters).")
            else:
                data["formatted"] = text
        return data
