"""The append-only audit trail. Rows are only ever inserted (see ``services.audit_record``)."""

from __future__ import annotations

from django.db import models

from wellcheck.audit.events import Category, EventType, Outcome


class AuditEvent(models.Model):
    """One event: who did what to which record, when, why, with what outcome.

    Never holds sensitive plaintext: ``changes`` names the fields changed and masks the values of
    sensitive ones; ``target_id`` is an opaque record id.
    """

    id = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(db_index=True)
    component = models.CharField(max_length=40)
    event_type = models.CharField(max_length=60, choices=EventType.choices, db_index=True)
    category = models.CharField(max_length=20, choices=Category.choices)
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_name = models.CharField(max_length=200, blank=True)
    agency_id = models.UUIDField(null=True, blank=True, db_index=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.SUCCESS)
    request_id = models.CharField(max_length=64, blank=True)
    client_ip = models.CharField(max_length=64, blank=True)
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.CharField(max_length=64, blank=True, db_index=True)
    reason = models.CharField(max_length=500, blank=True)
    recipients = models.JSONField(default=list, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.event_type} by {self.actor_name}"
