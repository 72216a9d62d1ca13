"""Access data: grant overrides, active sessions, recovery codes, notifications, break-the-glass.

Rows here are written only by the services in ``accounts/`` (grants.py, sessions.py, mfa.py,
breakglass.py), each with its audit event in the same transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from wellcheck.accounts.permissions import Role, Scope

SCOPE_CHOICES = [(s.value, s.name.lower()) for s in Scope]


class Grant(models.Model):
    """An agency's override of the code matrix for one role and one action.

    ``scope`` null means "none": the agency has taken the action away from the role. A missing row
    means the code default (``permissions.DEFAULT_MATRIX``) applies.
    """

    agency = models.ForeignKey("accounts.Agency", on_delete=models.CASCADE, related_name="grants")
    role = models.CharField(max_length=20, choices=Role.choices)
    # No choices: the Action enum grows with the code; grant_set() validates the value.
    action = models.CharField(max_length=40)
    scope = models.PositiveSmallIntegerField(null=True, blank=True, choices=SCOPE_CHOICES)
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "role", "action"], name="grant_unique")
        ]
        ordering = ["role", "action"]

    def __str__(self) -> str:
        return f"{self.role} {self.action} -> {self.scope}"


class UserSession(models.Model):
    """A signed-in browser session. The middleware ends any session that has no row here."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="active_sessions"
    )
    session_key = models.CharField(max_length=64, unique=True)
    started_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["started_at"]

    def __str__(self) -> str:
        return f"session of user {self.user_id} since {self.started_at:%Y-%m-%d %H:%M}"


class RecoveryCode(models.Model):
    """A single-use MFA recovery code, stored as a SHA-256 digest (the code has ~60 bits)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"recovery code of user {self.user_id}{' (used)' if self.used_at else ''}"


class NotificationKind(models.TextChoices):
    BREAK_GLASS = "break_glass", "Emergency access"


class Notification(models.Model):
    """A message to one user. Holds no sensitive plaintext: who, which record id, when."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    message = models.CharField(max_length=300)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} for user {self.recipient_id}"


class BreakGlassReason(models.TextChoices):
    LIFE_AT_RISK = "life_at_risk", "Immediate risk to life or safety"
    MISSING_PERSON = "missing_person", "Missing or vulnerable person search"
    OFFICER_SAFETY = "officer_safety", "Officer safety at an active call"
    OTHER = "other", "Other emergency (explain)"


class BreakGlassAccess(models.Model):
    """A time-limited emergency grant to read one check (and its person) outside one's scope.

    While ``expires_at`` lies ahead, ``restrict()`` lets the actor see the check for the read
    actions (see ``breakglass.BREAK_GLASS_ACTIONS``). Every access waits in the privacy officer's
    review queue until ``reviewed_at`` is set.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="break_glass_accesses"
    )
    agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    check_record = models.ForeignKey(
        "checks.WellnessCheck", on_delete=models.CASCADE, related_name="break_glass_accesses"
    )
    reason_code = models.CharField(max_length=20, choices=BreakGlassReason.choices)
    reason_text = models.CharField(max_length=300)
    started_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_note = models.CharField(max_length=500, blank=True)
    review_finding = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["actor", "expires_at"])]

    def __str__(self) -> str:
        return f"emergency access {self.pk} by user {self.actor_id}"

    @property
    def is_active(self) -> bool:
        return self.expires_at > timezone.now()
