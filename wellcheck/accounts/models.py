"""Agencies, their units (districts and beats), and the people who sign in."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models

from wellcheck.accounts.models_access import (  # noqa: F401  (registers the models)
    BreakGlassAccess,
    Grant,
    Notification,
    RecoveryCode,
    UserSession,
)
from wellcheck.accounts.models_tokens import ApiToken  # noqa: F401  (registers the model)
from wellcheck.accounts.permissions import Role


class RecordPolicy(models.TextChoices):
    FULL = "full", "Full: every check keeps its identifying record"
    CONSENT_ONLY = "consent_only", "Consent only: no identifying record without consent to support"


class Agency(models.Model):
    """A police department. Its record policy decides what a new check may keep."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    record_policy = models.CharField(
        max_length=20, choices=RecordPolicy.choices, default=RecordPolicy.FULL
    )
    consent_valid_days = models.PositiveIntegerField(
        default=365, help_text="Consent lapses unless renewed within this many days."
    )
    time_zone = models.CharField(max_length=64, default="America/Los_Angeles")
    max_sessions = models.PositiveSmallIntegerField(
        default=1,
        help_text="Concurrent sessions per user (CJIS 5.5.2.2: one unless the agency allows more).",
    )

    class Meta:
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.name


class UnitKind(models.TextChoices):
    DISTRICT = "district", "District"
    BEAT = "beat", "Beat"
    TEAM = "team", "Team"


class Unit(models.Model):
    """A district, beat or team. Checks belong to a unit; a unit may sit under another."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="units")
    code = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=UnitKind.choices, default=UnitKind.BEAT)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "code"], name="unit_code_unique_in_agency")
        ]
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class User(AbstractUser):
    """A person who signs in. One role; one home unit; one agency."""

    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.OFFICER)
    badge_number = models.CharField(max_length=40, blank=True)

    def scope_unit_ids(self) -> list[int]:
        """The actor's unit and every unit below it (a district supervisor sees its beats)."""
        cached: list[int] | None = getattr(self, "_scope_unit_ids", None)
        if cached is not None:
            return cached
        if self.unit_id is None:
            ids: list[int] = []
        else:
            ids = [self.unit_id]
            frontier = [self.unit_id]
            while frontier:
                frontier = list(
                    Unit.objects.filter(parent_id__in=frontier).values_list("id", flat=True)
                )
                ids.extend(frontier)
        self._scope_unit_ids = ids
        return ids

    @property
    def display_name(self) -> str:
        full = self.get_full_name()
        return full or self.username
