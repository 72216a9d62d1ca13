"""The upload form: a built-in profile and a CSV file."""

from __future__ import annotations

from django import forms

from wellcheck.intake.profiles import builtin_names, load_profile


def _profile_choices() -> list[tuple[str, str]]:
    return [(name, load_profile(name).label) for name in builtin_names()]


class UploadForm(forms.Form):
    profile = forms.ChoiceField(label="Export format (profile)", choices=_profile_choices)
    file = forms.FileField(label="Calls-for-service file (CSV)")
