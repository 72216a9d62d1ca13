"""Forms for the retention pages: each decision and each protective action carries a reason."""

from __future__ import annotations

from django import forms

from wellcheck.retention.models import ReviewDecision


class ReviewDecideForm(forms.Form):
    decision = forms.ChoiceField(label="Decision", choices=ReviewDecision.choices)
    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 2}))


PROTECT_ACTIONS = [
    ("seal", "Seal (hide; reversible)"),
    ("unseal", "Unseal (bring back as it was)"),
    ("restrict", "Restrict (keep for evidence, out of normal use)"),
    ("unrestrict", "Lift the restriction"),
]


class ProtectForm(forms.Form):
    action = forms.ChoiceField(label="Action", choices=PROTECT_ACTIONS)
    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 2}))


class ExpungeForm(forms.Form):
    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 2}))
    confirm = forms.BooleanField(
        label="I understand the check is deleted for good and cannot be brought back",
        error_messages={"required": "Tick the box to confirm the expunge."},
    )


class EvidenceReasonForm(forms.Form):
    reason = forms.CharField(
        label="Why you need to read this restricted record",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
