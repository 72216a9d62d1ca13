"""Requests under the person's rights (UK DPA 2018 Part 3 as the model): subject access (s.45),
rectification (s.46), erasure or restriction (s.47), each answered in writing (s.48).

Everything that could identify or describe the person (the requester's name, request texts,
outcomes, statements, the stored answer) is encrypted under the person's data key, so erasing the
person shreds these too.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from wellcheck.core.querysets import RestrictedQuerySet
from wellcheck.crypto.fields import EncryptedCharField, EncryptedJSONField, EncryptedTextField


class AgencyScoped:
    """Records visible agency-wide to whoever holds the action (the records officer)."""

    @classmethod
    def scope_filter(cls, actor: object, scope: object) -> Q:
        return Q(agency_id=getattr(actor, "agency_id", None))


class RequestStatus(models.TextChoices):
    OPEN = "open", "Open"
    ANSWERED = "answered", "Answered"
    GRANTED = "granted", "Granted"
    PARTLY = "partly", "Partly granted"
    REFUSED = "refused", "Refused"


class SubjectAccessQuerySet(RestrictedQuerySet["SubjectAccessRequest"]):
    pass


class SubjectAccessRequest(AgencyScoped, models.Model):
    """A subject access request: due one calendar month after receipt; the answer is kept."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requester = EncryptedCharField(max_length=200, help_text="Who asked (the person or an agent).")
    identity_checked = models.TextField(blank=True, help_text="How the identity was verified.")
    received_on = models.DateField()
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default="open")
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    answer = EncryptedJSONField(default=dict, blank=True)

    objects = SubjectAccessQuerySet.as_manager()

    class Meta:
        ordering = ["due_on"]

    def __str__(self) -> str:
        return f"Subject access request due {self.due_on}"


class Redaction(models.Model):
    """One item withheld from an answer, with its reason (the reason is told to the person)."""

    request = models.ForeignKey(
        SubjectAccessRequest, on_delete=models.CASCADE, related_name="redactions"
    )
    item = models.CharField(
        max_length=200, help_text="Where in the package, e.g. checks[0].narrative"
    )
    reason = models.TextField()

    def __str__(self) -> str:
        return f"Redaction of {self.item}"


class RightsKind(models.TextChoices):
    RECTIFICATION = "rectification", "Rectification (s.46)"
    ERASURE = "erasure", "Erasure (s.47)"
    RESTRICTION = "restriction", "Restriction of processing (s.47)"


class RightsRequestQuerySet(RestrictedQuerySet["RightsRequest"]):
    pass


class RightsRequest(AgencyScoped, models.Model):
    """A rectification, erasure or restriction request and its written outcome with reasons."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=14, choices=RightsKind.choices)
    request_text = EncryptedTextField()
    received_on = models.DateField()
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default="open")
    outcome = EncryptedTextField(blank=True, help_text="The written answer, with reasons.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = RightsRequestQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.get_kind_display()} request"

    def crypto_scope(self) -> str:
        """The global key, not the person's: the request and its written outcome are the
        agency's evidence that it answered, and must survive the erasure they may order."""
        return "global"


class SupplementaryStatement(models.Model):
    """The person's own statement completing a record (s.46(4)); shown with the record."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    check_record = models.ForeignKey(
        "checks.WellnessCheck", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    request = models.ForeignKey(
        RightsRequest, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    statement = EncryptedTextField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    def __str__(self) -> str:
        return "Supplementary statement"
