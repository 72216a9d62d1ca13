"""Retention (record classes, review intervals, recorded reviews), the three protection
mechanisms (seal, restrict; expunge leaves only its audit event), and health segments.

See docs/adr/0007-retention-sealing-rights.md.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q

from wellcheck.accounts.permissions import Scope
from wellcheck.core.querysets import RestrictedQuerySet
from wellcheck.crypto.fields import EncryptedJSONField, EncryptedTextField

if TYPE_CHECKING:
    from wellcheck.accounts.models import User


class RecordClass(models.TextChoices):
    TALLY = "tally", "De-identified tally"
    NO_SUPPORT = "check_no_support", "Check without ongoing support"
    WITH_SUPPORT = "check_with_support", "Check with a support profile"
    CRIMINAL_CASE = "criminal_case", "Check linked to a criminal case"
    SEALED = "sealed", "Sealed record"


# Review intervals in days (UK MoPI / 2023 records code: non-crime about 6 years; support profiles
# follow consent revalidation, yearly). An agency sets its own with RetentionSchedule rows.
DEFAULT_REVIEW_DAYS: dict[str, int] = {
    RecordClass.TALLY: 10 * 365,
    RecordClass.NO_SUPPORT: 6 * 365,
    RecordClass.WITH_SUPPORT: 365,
    RecordClass.CRIMINAL_CASE: 10 * 365,
    RecordClass.SEALED: 6 * 365,
}


def _agency_scope(prefix: str = "") -> object:
    def scope_filter(cls: type, actor: User, scope: Scope) -> Q:
        return Q(**{f"{prefix}agency_id": actor.agency_id})

    return classmethod(scope_filter)


class RetentionSchedule(models.Model):
    """An agency's own review interval for one record class (else the default applies)."""

    agency = models.ForeignKey("accounts.Agency", on_delete=models.CASCADE, related_name="+")
    record_class = models.CharField(max_length=24, choices=RecordClass.choices)
    review_days = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "record_class"], name="one_schedule_per_class"
            )
        ]

    def __str__(self) -> str:
        return f"{self.record_class}: {self.review_days} days"


class CaseLink(models.Model):
    """The check is linked to a criminal case (record class ``criminal_case``)."""

    check_record = models.OneToOneField(
        "checks.WellnessCheck", primary_key=True, on_delete=models.CASCADE, related_name="case_link"
    )
    case_reference = models.CharField(max_length=60)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    linked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Case link of {self.check_record_id}"


class ReviewDecision(models.TextChoices):
    KEEP = "keep", "Keep (with reason)"
    DISPOSE = "dispose", "Dispose of the identity (keep the tally)"


class RetentionReviewQuerySet(RestrictedQuerySet["RetentionReview"]):
    pass


class RetentionReview(models.Model):
    """A review task for one check, created by the daily job; the decision and reason are kept."""

    check_record = models.ForeignKey(
        "checks.WellnessCheck",
        null=True,
        on_delete=models.SET_NULL,
        related_name="retention_reviews",
    )
    check_ref = models.UUIDField(help_text="The check's id, kept after an expunge.")
    agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    record_class = models.CharField(max_length=24, choices=RecordClass.choices)
    due_on = models.DateField()
    created_at = models.DateTimeField()
    decision = models.CharField(max_length=10, choices=ReviewDecision.choices, blank=True)
    reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = RetentionReviewQuerySet.as_manager()
    scope_filter = _agency_scope()

    class Meta:
        ordering = ["due_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["check_ref"], condition=Q(decided_at__isnull=True), name="one_open_review"
            )
        ]

    def __str__(self) -> str:
        return f"Review of {self.check_ref} due {self.due_on}"


class Mechanism(models.TextChoices):
    SEALED = "sealed", "Sealed (hidden; reversible by a privileged user)"
    RESTRICTED = "restricted", "Restricted (kept for evidence, out of normal use)"


class ProtectedRecordQuerySet(RestrictedQuerySet["ProtectedRecord"]):
    pass


class ProtectedRecord(models.Model):
    """The identifying part of a sealed or restricted check, moved out of normal use.

    While a check is sealed or restricted its ``CheckDetail`` does not exist: every normal read
    sees a tally-like check. ``payload`` holds the detail's values, encrypted under the person's
    key (an erasure shreds it too). Only ``record.protected_view`` reads it, with a reason, audited.
    """

    check_record = models.OneToOneField(
        "checks.WellnessCheck",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="protection",
    )
    agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    mechanism = models.CharField(max_length=12, choices=Mechanism.choices)
    person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    previous_mode = models.CharField(max_length=12)
    payload = EncryptedJSONField(default=dict)
    reason = models.TextField()
    protected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    protected_at = models.DateTimeField()

    objects = ProtectedRecordQuerySet.as_manager()
    scope_filter = _agency_scope()

    def __str__(self) -> str:
        return f"{self.get_mechanism_display()} record {self.check_record_id}"


class HealthTag(models.TextChoices):
    CLINICIAN_NOTE = "hipaa_clinician", "Co-responding clinician's note (HIPAA)"
    PART2 = "cfr42_part2", "Substance-use record from a programme (42 CFR Part 2)"


class HealthSegmentQuerySet(RestrictedQuerySet["HealthSegment"]):
    pass


class HealthSegment(models.Model):
    """A health note kept apart from the check; never disclosed or exported without a recorded
    consent or court order (``DisclosureAuthority``). Encrypted under the person's key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    check_record = models.ForeignKey(
        "checks.WellnessCheck", on_delete=models.CASCADE, related_name="health_segments"
    )
    agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tag = models.CharField(max_length=20, choices=HealthTag.choices)
    source = models.CharField(max_length=200, help_text="Clinician or programme it came from.")
    content = EncryptedTextField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    objects = HealthSegmentQuerySet.as_manager()
    scope_filter = _agency_scope()

    def __str__(self) -> str:
        return f"{self.get_tag_display()} on {self.check_record_id}"


class AuthorityKind(models.TextChoices):
    CONSENT = "consent", "Written consent of the person"
    COURT_ORDER = "court_order", "Court order"


class DisclosureAuthority(models.Model):
    """What allows a health segment to be disclosed: the person's consent or a court order."""

    segment = models.ForeignKey(HealthSegment, on_delete=models.CASCADE, related_name="authorities")
    kind = models.CharField(max_length=12, choices=AuthorityKind.choices)
    reference = models.CharField(max_length=200)
    recipient = models.CharField(max_length=200, help_text="Who may receive it.")
    valid_until = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.segment_id}"
