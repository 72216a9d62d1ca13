"""Forms after the scene: the supervisor's decision, follow-ups and the outcome review. They parse
input only; the services decide and explain (errors are put back on the field they name)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from wellcheck.accounts.models import User
from wellcheck.checks.forms import code_choices, date_widget, set_choices
from wellcheck.checks.models import Code, ReviewDecision
from wellcheck.checks.taxonomy import CodeCategory


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label="Decision",
        widget=forms.RadioSelect,
        choices=[
            (ReviewDecision.APPROVED, "Approve"),
            (ReviewDecision.RETURNED, "Return to the officer"),
        ],
    )
    note = forms.CharField(
        label="Note to the officer",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required when you return a check: say what to fix.",
    )


class FollowUpForm(forms.Form):
    task = forms.CharField(label="What is to be done", max_length=300)
    assigned_to = forms.ModelChoiceField(queryset=User.objects.none(), label="Who does it")
    due_on = forms.DateField(label="Due", widget=date_widget())

    def __init__(self, *args: Any, staff: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"].queryset = staff  # type: ignore[attr-defined]
        self.fields["assigned_to"].label_from_instance = lambda u: u.display_name  # type: ignore[attr-defined]


class FollowUpCompleteForm(forms.Form):
    result = forms.CharField(label="Result", max_length=300, required=False)


class OutcomeReviewForm(forms.Form):
    outcome_review = forms.ChoiceField(label="Did the help work?")

    def __init__(self, *args: Any, codes: dict[str, list[Code]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(
            self,
            "outcome_review",
            code_choices(codes[CodeCategory.OUTCOME_REVIEW], blank="Choose"),
        )
