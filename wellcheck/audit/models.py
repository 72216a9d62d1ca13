"""The append-only audit trail, its signed checkpoints and its archives.

Rows are only ever inserted (``services.audit_record``); database triggers refuse UPDATE, DELETE
and TRUNCATE (see ``triggers.py`` and docs/adr/0004-audit-chain.md). Each event is chained to the
one before it by ``row_hash = SHA-256(prev_hash || canonical bytes)`` over a gap-free ``seq``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q

from wellcheck.accounts.permissions import Scope
from wellcheck.audit.events import Category, EventType, Outcome
from wellcheck.core.querysets import RestrictedQuerySet

if TYPE_CHECKING:
    from wellcheck.accounts.models import User


class AuditEventQuerySet(RestrictedQuerySet["AuditEvent"]):
    pass


class AuditEvent(models.Model):
    """One event: who did what to which record, when, why, with what outcome.

    Never holds sensitive plaintext: ``changes`` names the fields changed and masks the values of
    sensitive ones; ``target_id`` is an opaque record id. ``seq`` is gap-free from 1 (unique), and
    ``row_hash`` covers every column except ``id`` (see ``canonical.py``).
    """

    id = models.BigAutoField(primary_key=True)
    seq = models.BigIntegerField(unique=True)
    occurred_at = models.DateTimeField(db_index=True)
    component = models.CharField(max_length=40)
    # No ``choices``: the shared EventType enum grows with every feature and must not need an
    # audit migration each time; ``audit_record`` accepts only types listed in CATEGORY_OF.
    event_type = models.CharField(max_length=60, db_index=True)
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
    canon_version = models.PositiveSmallIntegerField(default=1)
    prev_hash = models.CharField(max_length=64)
    row_hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.event_type} by {self.actor_name}"

    @property
    def event_label(self) -> str:
        try:
            return str(EventType(self.event_type).label)
        except ValueError:
            return self.event_type

    @classmethod
    def scope_filter(cls, actor: User, scope: Scope) -> Q:
        """An auditor reads the events of their own agency (AUDIT_VIEW is agency-wide)."""
        return Q(agency_id=actor.agency_id)


class AuditCheckpoint(models.Model):
    """A signed statement of the chain's size and Merkle root (RFC 6962) at one moment.

    ``note`` is the full C2SP signed checkpoint text; it is what gets exported and published.
    ``frontier`` holds the roots of the perfect subtrees of the first ``tree_size`` leaves, so the
    next checkpoint extends it instead of re-reading the whole chain. Append-only like events.
    """

    tree_size = models.BigIntegerField(unique=True)
    root_hash = models.CharField(max_length=64)
    last_row_hash = models.CharField(max_length=64)
    frontier = models.JSONField(default=list)
    key_id = models.CharField(max_length=8)
    note = models.TextField()
    signed_at = models.DateTimeField()

    class Meta:
        ordering = ["tree_size"]

    def __str__(self) -> str:
        return f"Checkpoint at {self.tree_size}"


class AuditArchive(models.Model):
    """A run of old events moved to a file. Deleting an event is allowed only inside an archive.

    The live chain continues from ``last_seq``/``last_hash``; ``frontier`` lets checkpoints that
    cover archived events still be checked. ``file_sha256`` pins the file's exact bytes.
    """

    first_seq = models.BigIntegerField()
    last_seq = models.BigIntegerField(unique=True)
    last_hash = models.CharField(max_length=64)
    frontier = models.JSONField(default=list)
    file_name = models.CharField(max_length=300)
    file_sha256 = models.CharField(max_length=64)
    event_count = models.BigIntegerField()
    archived_at = models.DateTimeField()

    class Meta:
        ordering = ["last_seq"]

    def __str__(self) -> str:
        return f"Archive of events {self.first_seq}-{self.last_seq}"


class UnusualAccessReport(models.Model):
    """The findings of one run of the unusual-access rules over a period, for one agency."""

    agency_id = models.UUIDField(db_index=True)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    created_at = models.DateTimeField()
    findings = models.JSONField(default=list)

    class Meta:
        ordering = ["-period_end"]

    def __str__(self) -> str:
        return f"Unusual access {self.period_start:%Y-%m-%d} ({len(self.findings)} findings)"
