"""The wellness check, split so that a de-identified tally is structural, not a convention.

``WellnessCheck`` holds only de-identified facts: unit (beat), hour or time received, codes,
durations, state. Everything that can identify a person (the person, exact address and
coordinates, incident number, exact times, responders, narrative, free-text rationale) lives in
``CheckDetail``. A tally is a check with no detail row: there is no column in which identity could
be written. See docs/adr/0002-record-policy-modes.md.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q

from wellcheck.accounts.permissions import Scope
from wellcheck.checks.taxonomy import CodeCategory
from wellcheck.core.querysets import RestrictedQuerySet
from wellcheck.crypto.fields import (
    EncryptedCharField,
    EncryptedDecimalField,
    EncryptedTextField,
)

if TYPE_CHECKING:
    from wellcheck.accounts.models import User


class Code(models.Model):
    """A reference code. Agency-less codes are the shared taxonomy; an agency may add its own."""

    agency = models.ForeignKey(
        "accounts.Agency", null=True, blank=True, on_delete=models.CASCADE, related_name="codes"
    )
    category = models.CharField(max_length=20, choices=CodeCategory.choices)
    code = models.CharField(max_length=40)
    label = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "category", "code"], name="code_unique_per_agency"
            ),
            models.UniqueConstraint(
                fields=["category", "code"],
                condition=Q(agency__isnull=True),
                name="shared_code_unique",
            ),
        ]
        ordering = ["category", "sort_order", "label"]

    def __str__(self) -> str:
        return self.label


class CheckState(models.TextChoices):
    IMPORTED = "imported", "Imported from dispatch"
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    RETURNED = "returned", "Returned"
    APPROVED = "approved", "Approved"


class RecordMode(models.TextChoices):
    IDENTIFIED = "identified", "Identifying record"
    TALLY = "tally", "De-identified tally"


class Source(models.TextChoices):
    ENTERED = "entered", "Entered by an officer"
    IMPORTED = "imported", "Imported from dispatch (CAD)"


class WellnessCheckQuerySet(RestrictedQuerySet["WellnessCheck"]):
    pass


class WellnessCheck(models.Model):
    """The de-identified facts of one check. Safe to count; never holds identity or free text."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No single-column indexes on agency and unit: the (agency, received_at) and (unit, state)
    # indexes lead with them and serve every lookup by either (including ON DELETE checks).
    agency = models.ForeignKey(
        "accounts.Agency", on_delete=models.PROTECT, related_name="checks", db_index=False
    )
    unit = models.ForeignKey(
        "accounts.Unit", on_delete=models.PROTECT, related_name="checks", db_index=False
    )
    state = models.CharField(max_length=12, choices=CheckState.choices, default=CheckState.DRAFT)
    record_mode = models.CharField(
        max_length=12, choices=RecordMode.choices, default=RecordMode.IDENTIFIED
    )
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.ENTERED)
    source_key = models.CharField(
        max_length=64,
        null=True,
        blank=True,
        help_text="Keyed hash of the dispatch incident key, for idempotent imports.",
    )
    received_at = models.DateTimeField(help_text="Exact for records; the hour for tallies.")
    initiator = models.ForeignKey(
        Code, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    reasons = models.ManyToManyField(Code, blank=True, related_name="+")
    triage = models.ForeignKey(
        Code, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    caller_told = models.BooleanField(
        null=True, blank=True, help_text="Was the caller told whether police would attend?"
    )
    observed = models.ManyToManyField(Code, blank=True, related_name="+")
    outcome = models.ForeignKey(
        Code, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    referrals = models.ManyToManyField(Code, blank=True, related_name="+")
    outcome_review = models.ForeignKey(
        Code, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    outcome_reviewed_at = models.DateTimeField(null=True, blank=True)
    co_responder_present = models.BooleanField(null=True, blank=True)
    mental_health_related = models.BooleanField(default=False)
    mental_health_marked_at = models.DateTimeField(null=True, blank=True)
    dispatch_seconds = models.PositiveIntegerField(null=True, blank=True)
    response_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Received to arrived."
    )
    on_scene_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Arrived to cleared."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    objects = WellnessCheckQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "source_key"],
                condition=Q(source_key__isnull=False),
                name="check_source_key_unique",
            )
        ]
        indexes = [
            models.Index(fields=["agency", "received_at"]),
            models.Index(fields=["unit", "state"]),
            # Nullable foreign keys: an imported check has none of these set, so a full index
            # would hold a NULL entry per import. Partial indexes still serve `fk = x` lookups
            # (the access filters and the ON DELETE checks from the referenced tables).
            *(
                models.Index(
                    fields=[fk],
                    condition=Q(**{f"{fk}__isnull": False}),
                    name=f"check_{fk}_partial",
                )
                for fk in ("initiator", "triage", "outcome_review", "created_by", "assigned_to")
            ),
        ]

    def __str__(self) -> str:
        return f"Check {str(self.id)[:8]} ({self.get_state_display()})"

    @property
    def is_tally(self) -> bool:
        return self.record_mode == RecordMode.TALLY

    @classmethod
    def scope_filter(cls, actor: User, scope: Scope) -> Q:
        base = Q(agency_id=actor.agency_id)
        if scope >= Scope.AGENCY:
            return base
        if scope == Scope.UNIT:
            return base & Q(unit_id__in=actor.scope_unit_ids())
        return base & (Q(created_by_id=actor.pk) | Q(assigned_to_id=actor.pk))


class CheckDetail(models.Model):
    """The identifying part of a check. Absent for a tally; removed on de-identification."""

    check_record = models.OneToOneField(
        WellnessCheck, primary_key=True, on_delete=models.CASCADE, related_name="detail"
    )
    # Identifying values are encrypted (AES-256-GCM, bound to this row and field; the person's
    # data key when a person is linked, else the global one). See docs/adr/0006.
    incident_number = EncryptedCharField(max_length=40, blank=True)
    address = EncryptedCharField(
        max_length=300, blank=True, help_text="Block address or intersection."
    )
    address_key = models.CharField(
        max_length=64,
        blank=True,
        help_text="Blind index of the normalised address (core/blind.py), for same-address history.",  # noqa: E501
    )
    latitude = EncryptedDecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = EncryptedDecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    triage_rationale = EncryptedTextField(blank=True)
    responders = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    narrative = EncryptedTextField(blank=True)
    person = models.ForeignKey(
        "people.Person",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="check_details",
        db_index=False,
    )

    class Meta:
        indexes = [
            # Matched by equality only (an HMAC): a plain btree, without the varchar_pattern_ops
            # "_like" twin that db_index=True adds on PostgreSQL.
            models.Index(fields=["address_key"], name="checkdetail_address_key"),
            # Imported details have no person; the partial index serves `person_id = x` lookups and
            # the ON DELETE SET NULL from people.Person.
            models.Index(
                fields=["person"],
                condition=Q(person__isnull=False),
                name="checkdetail_person_partial",
            ),
        ]

    def __str__(self) -> str:
        return f"Detail of {self.check_record_id}"


class ReviewDecision(models.TextChoices):
    APPROVED = "approved", "Approved"
    RETURNED = "returned", "Returned"


class CheckReview(models.Model):
    """A supervisor's decision on a submitted check, with the note the officer sees."""

    check_record = models.ForeignKey(
        WellnessCheck, on_delete=models.CASCADE, related_name="reviews"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(max_length=10, choices=ReviewDecision.choices)
    note = models.TextField(blank=True)
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["-decided_at"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} {self.decided_at:%Y-%m-%d}"


class FollowUp(models.Model):
    """A task that someone owns: contact the person again, confirm a referral was taken up."""

    check_record = models.ForeignKey(
        WellnessCheck, on_delete=models.CASCADE, related_name="follow_ups"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    due_on = models.DateField()
    task = models.CharField(max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["due_on"]

    def __str__(self) -> str:
        return f"Follow-up due {self.due_on}"
