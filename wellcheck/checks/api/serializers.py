"""API serializers. Input and output apart (HackSoft style): input serializers only parse and
type-check, then hand a :class:`~wellcheck.checks.inputs.CheckInput` to the services; output
serializers only render. No business rule lives here: codes, times and the record policy are
checked by ``wellcheck.checks.services``, which names the field in its errors.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from wellcheck.checks.models import CheckDetail, CheckReview, WellnessCheck
from wellcheck.people.models import ConsentMethod, ConsentScope, Person


def _codes(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, **kwargs
    )


# --- input ----------------------------------------------------------------------------------


class PersonInputSerializer(serializers.Serializer):
    given_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    family_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    aliases = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=20
    )


class ConsentInputSerializer(serializers.Serializer):
    """Consent taken at the scene; omit it to keep what the person consented to before."""

    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=ConsentScope.choices),
        required=False,
        min_length=1,
        help_text="Defaults to ['ongoing_support'], the scope that keeps the record.",
    )
    method = serializers.ChoiceField(choices=ConsentMethod.choices, required=False)
    taken_at = serializers.DateTimeField(required=False, allow_null=True)
    service_name = serializers.CharField(max_length=200, required=False, allow_blank=True)


class CheckInputSerializer(serializers.Serializer):
    """What a client may send to record or change a check. Codes are the taxonomy's code strings
    (e.g. ``"family"``, ``"dementia"``); ``unit`` is the unit's id."""

    unit = serializers.IntegerField(help_text="Id of the unit (beat) the check belongs to.")
    received_at = serializers.DateTimeField(help_text="When the call came in (with its time zone).")
    incident_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    initiator = serializers.CharField(max_length=40, required=False, allow_blank=True)
    reasons = _codes()
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    latitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        required=False,
        allow_null=True,
        min_value=-90,
        max_value=90,
    )
    longitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        required=False,
        allow_null=True,
        min_value=-180,
        max_value=180,
    )
    triage = serializers.CharField(max_length=40, required=False, allow_blank=True)
    triage_rationale = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    caller_told = serializers.BooleanField(required=False, allow_null=True)
    dispatched_at = serializers.DateTimeField(required=False, allow_null=True)
    arrived_at = serializers.DateTimeField(required=False, allow_null=True)
    cleared_at = serializers.DateTimeField(required=False, allow_null=True)
    responders = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        help_text="User ids of the responders.",
    )
    co_responder_present = serializers.BooleanField(required=False, allow_null=True)
    observed = _codes()
    outcome = serializers.CharField(max_length=40, required=False, allow_blank=True)
    referrals = _codes()
    mental_health_related = serializers.BooleanField(required=False)
    narrative = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    person = PersonInputSerializer(required=False)
    consent = ConsentInputSerializer(required=False, allow_null=True)


class ReviewInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=[("approved", "Approve"), ("returned", "Return to the officer")]
    )
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Required when returning: what the officer should fix.",
    )


class MentalHealthInputSerializer(serializers.Serializer):
    related = serializers.BooleanField(default=True)


# --- output ---------------------------------------------------------------------------------


def CodeField(**kwargs: Any) -> serializers.SlugRelatedField:  # noqa: N802  (reads as a field)
    """A code rendered as its code string (labels come from the reference data)."""
    return serializers.SlugRelatedField(slug_field="code", **kwargs)


class UnitOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class CheckOutputSerializer(serializers.ModelSerializer):
    """The de-identified facts of a check: safe for everyone who may see the check at all."""

    unit = UnitOutputSerializer(read_only=True)
    initiator = CodeField(read_only=True, allow_null=True)
    triage = CodeField(read_only=True, allow_null=True)
    outcome = CodeField(read_only=True, allow_null=True)
    outcome_review = CodeField(read_only=True, allow_null=True)
    reasons = CodeField(many=True, read_only=True)
    observed = CodeField(many=True, read_only=True)
    referrals = CodeField(many=True, read_only=True)

    class Meta:
        model = WellnessCheck
        fields = [
            "id",
            "unit",
            "state",
            "record_mode",
            "source",
            "received_at",
            "initiator",
            "reasons",
            "triage",
            "caller_told",
            "observed",
            "outcome",
            "referrals",
            "outcome_review",
            "co_responder_present",
            "mental_health_related",
            "mental_health_marked_at",
            "dispatch_seconds",
            "response_seconds",
            "on_scene_seconds",
            "created_at",
            "updated_at",
            "submitted_at",
            "approved_at",
        ]
        read_only_fields = fields


class ConsentOutputSerializer(serializers.Serializer):
    scope = serializers.CharField()
    method = serializers.CharField()
    taken_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    lapsed_at = serializers.DateTimeField(allow_null=True)


class PersonOutputSerializer(serializers.ModelSerializer):
    consents = ConsentOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Person
        fields = ["id", "given_name", "family_name", "date_of_birth", "aliases", "consents"]
        read_only_fields = fields


class DetailOutputSerializer(serializers.ModelSerializer):
    """The identifying part. Rendered only for actors with CHECK_VIEW_IDENTITY on the check."""

    person = PersonOutputSerializer(read_only=True, allow_null=True)
    responders = serializers.SerializerMethodField()

    class Meta:
        model = CheckDetail
        fields = [
            "incident_number",
            "address",
            "latitude",
            "longitude",
            "dispatched_at",
            "arrived_at",
            "cleared_at",
            "triage_rationale",
            "responders",
            "narrative",
            "person",
        ]
        read_only_fields = fields

    def get_responders(self, detail: CheckDetail) -> list[int]:
        return sorted(u.pk for u in detail.responders.all())


class ReviewOutputSerializer(serializers.ModelSerializer):
    reviewer = serializers.CharField(source="reviewer.username", read_only=True)

    class Meta:
        model = CheckReview
        fields = ["decision", "note", "decided_at", "reviewer"]
        read_only_fields = fields


class CheckFullOutputSerializer(CheckOutputSerializer):
    """One check: its facts, its reviews, and ``detail`` (the identity) when the actor may see it.
    ``detail`` is null for a tally and for an actor without identity scope."""

    reviews = ReviewOutputSerializer(many=True, read_only=True)
    detail = serializers.SerializerMethodField()

    class Meta(CheckOutputSerializer.Meta):
        fields = [*CheckOutputSerializer.Meta.fields, "reviews", "detail"]
        read_only_fields = fields

    @extend_schema_field(DetailOutputSerializer(allow_null=True))
    def get_detail(self, check: WellnessCheck) -> dict[str, Any] | None:
        detail = self.context.get("identity")
        if detail is None:
            return None
        return DetailOutputSerializer(detail).data
