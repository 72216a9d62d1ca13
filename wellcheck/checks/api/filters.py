"""Filters of the check list. Every filter narrows the restricted queryset; none widens it."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from wellcheck.checks.models import CheckState, WellnessCheck


class CheckFilter(django_filters.FilterSet):
    received_from = django_filters.DateFilter(
        field_name="received_at",
        lookup_expr="date__gte",
        label="Received on or after this date (YYYY-MM-DD, local time).",
    )
    received_to = django_filters.DateFilter(
        field_name="received_at",
        lookup_expr="date__lte",
        label="Received on or before this date (YYYY-MM-DD, local time).",
    )
    unit = django_filters.CharFilter(
        method="filter_unit", label="Unit code (a beat, or a district with its beats)."
    )
    reason = django_filters.CharFilter(
        method="filter_reason", label="Reason-for-concern code (e.g. dementia)."
    )
    outcome = django_filters.CharFilter(field_name="outcome__code", label="Outcome code.")
    state = django_filters.ChoiceFilter(choices=CheckState.choices)
    mental_health_related = django_filters.BooleanFilter()

    class Meta:
        model = WellnessCheck
        fields = [
            "received_from",
            "received_to",
            "unit",
            "reason",
            "outcome",
            "state",
            "mental_health_related",
        ]

    def filter_unit(
        self, queryset: QuerySet[WellnessCheck], name: str, value: str
    ) -> QuerySet[WellnessCheck]:
        return queryset.filter(Q(unit__code=value) | Q(unit__parent__code=value))

    def filter_reason(
        self, queryset: QuerySet[WellnessCheck], name: str, value: str
    ) -> QuerySet[WellnessCheck]:
        return queryset.filter(
            pk__in=WellnessCheck.reasons.through.objects.filter(code__code=value).values(
                "wellnesscheck_id"
            )
        )
