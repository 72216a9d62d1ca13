"""What the importer keeps besides the checks themselves.

``ImportRun`` is one import of one file: its progress is committed with each batch, so a run
killed at any moment resumes after its last committed batch. ``ImportedCall`` is the ledger of
every dispatch call seen (keyed hash of the incident key, a keyed digest of what was stored,
de-identified facts only), which makes a re-import idempotent and a changed row detectable.
``CallCount`` counts calls per agency, category, call type, beat and local day, so analytics can
show welfare checks as a share of all calls. None of these tables holds plaintext identity.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from wellcheck.accounts.permissions import Scope
from wellcheck.core.querysets import RestrictedQuerySet

if TYPE_CHECKING:
    from wellcheck.accounts.models import User


class CallCategory(models.TextChoices):
    WELFARE_CHECK = "welfare_check", "Welfare check"
    MENTAL_HEALTH = "mental_health", "Mental-health related"
    OTHER = "other", "Other call"


CHECK_CATEGORIES = (CallCategory.WELFARE_CHECK, CallCategory.MENTAL_HEALTH)


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    REFUSED = "refused", "Refused"
    FAILED = "failed", "Failed"


def _agency_scope(actor: User, scope: Scope) -> Q:
    return Q(agency_id=actor.agency_id)


def _bulk_agency() -> models.ForeignKey[Any, Any]:
    """The agency of a table the importer writes in bulk: no database constraint (PostgreSQL's
    per-row foreign-key triggers cost more than the insert; Django applies ``on_delete`` in
    Python), no index of its own (an index or unique constraint leads with it)."""
    return models.ForeignKey(
        "accounts.Agency",
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )


class ImportRun(models.Model):
    """One import of one file. Counters and position are committed with every batch."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    profile_name = models.CharField(max_length=80)
    profile_digest = models.CharField(max_length=64)
    file_name = models.CharField(max_length=255, help_text="Base name of the file, for people.")
    file_sha256 = models.CharField(max_length=64, db_index=True)
    file_size = models.BigIntegerField(default=0)
    upload_path = models.CharField(max_length=500, blank=True, help_text="Web uploads only.")
    reject_path = models.CharField(max_length=500, blank=True)
    reject_bytes = models.BigIntegerField(
        default=0, help_text="Reject-file size at the last commit."
    )
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    message = models.CharField(max_length=500, blank=True)
    batch_size = models.PositiveIntegerField(default=50_000)
    batches_done = models.PositiveIntegerField(default=0)
    rows_done = models.BigIntegerField(default=0, help_text="Data rows consumed (incl. rejected).")
    bytes_done = models.BigIntegerField(default=0)
    counters = models.JSONField(default=dict, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import {self.file_name} ({self.get_status_display()})"

    @classmethod
    def scope_filter(cls, actor: User, scope: Scope) -> Q:
        return _agency_scope(actor, scope)

    @property
    def percent(self) -> int:
        if not self.file_size:
            return 0
        return min(100, int(100 * self.bytes_done / self.file_size))


class ImportedCall(models.Model):
    """The ledger before 0005: one row per dispatch call seen. Imports since 0005 keep the ledger
    in ``LedgerPage``; rows still here are read as a fallback and moved into pages the next time
    their call is imported. Unique per agency and key.

    Its foreign keys are not database constraints (``db_constraint=False``): this is a ledger
    written in bulk (one row per call, millions), PostgreSQL's per-row foreign-key triggers cost
    more than the insert, and Django's ``on_delete`` (PROTECT, SET_NULL) is applied in Python
    anyway. The importer writes only ids it has just read or created in the same transaction.
    """

    agency = _bulk_agency()
    source_key = models.UUIDField(
        help_text="First 128 bits of the keyed source key (intake.parse.ledger_key)."
    )
    digest = models.UUIDField(help_text="Keyed 128-bit digest of the values stored.")
    category = models.CharField(max_length=16, choices=CallCategory.choices)
    call_type = models.CharField(max_length=40)
    unit_code = models.CharField(max_length=40, blank=True)
    day = models.DateField(help_text="Local day of the call in the agency's time zone.")
    check_record = models.ForeignKey(
        "checks.WellnessCheck",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,  # partial index below: most ledger rows are other calls, no check
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "source_key"], name="imported_call_unique")
        ]
        indexes = [
            models.Index(
                fields=["check_record"],
                condition=Q(check_record__isnull=False),
                name="imported_call_check",
            )
        ]

    def __str__(self) -> str:
        return f"{self.call_type} {self.day}"

    @classmethod
    def scope_filter(cls, actor: User, scope: Scope) -> Q:
        return _agency_scope(actor, scope)


class LedgerPage(models.Model):
    """A page of the importer's ledger: every dispatch call seen whose key falls in one bucket.

    The ledger is what makes a re-import exact: for each call it keeps a keyed 64-bit hash of its
    incident key, a keyed 64-bit hash of the values stored (to see a changed row), the count group
    it was counted in (category, call type, beat, local day) and whether it has a check. Calls are
    grouped into pages by a keyed hash of their incident number without its last digits
    (``Profile.key_bucket_drop``), so the calls of one export, which dispatch numbers in sequence,
    share a few pages: an import reads and writes one row per thousand calls, not one per call.
    Entries are packed (``intake.ledger``). No plaintext: every identifier in a page is a keyed
    hash. ``ImportedCall`` rows written before 0005 are read as a fallback and moved into pages.
    """

    agency = _bulk_agency()
    bucket = models.BigIntegerField(help_text="Keyed 63-bit hash of the calls' bucket text.")
    entries = models.BinaryField(help_text="Packed entries (intake.ledger.encode).")
    calls = models.PositiveIntegerField(default=0, help_text="Number of entries.")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "bucket"], name="ledger_page_unique")
        ]

    def __str__(self) -> str:
        return f"Ledger page {self.bucket} ({self.calls} calls)"

    @classmethod
    def scope_filter(cls, actor: User, scope: Scope) -> Q:
        return _agency_scope(actor, scope)


class CallCount(models.Model):
    """Calls per agency, category, beat (unit code) and local day, split by call type, as a log.

    Every imported call is counted here, whatever its category: welfare checks, mental-health
    calls and all other calls. A row holds one import batch's changes to one (category, beat,
    day): ``call_types`` maps each call type the batch changed to its delta (non-zero deltas
    only) and ``calls`` is the sum of those deltas. A count is the **sum** of its rows: the
    calls of a (category, beat, day) are ``sum(calls)``, those of one call type in it are the
    sum of that type's deltas (a call moved to another group adds -1 to the old group, in this
    row or another). The importer only ever appends, never looks rows up or updates them, and
    the table needs no unique index (before 0005 an upsert per group cost more than the rest of
    an import). Since 0006 a row per (category, beat, day), not per call type: a seventh of the
    rows (a 1M-call San Diego export: 43,000 instead of 320,000). "Welfare checks as a share of
    all calls" is ``sum(calls where category=welfare_check) / sum(calls)``. Kept exact by the
    importer's ledger: a re-imported call is not counted twice, a changed call moves between
    groups.

    ``calls`` equals the sum of ``call_types``' values in every row (written together by
    ``intake.ledger.add_counts``; no portable CHECK constraint can sum a JSON object, a test
    checks it).
    """

    agency = _bulk_agency()
    category = models.CharField(max_length=16, choices=CallCategory.choices)
    unit_code = models.CharField(max_length=40, blank=True)
    day = models.DateField()
    calls = models.IntegerField(
        default=0, help_text="Calls added, all call types (negative: moved away)."
    )
    call_types = models.JSONField(
        default=dict, help_text="Calls added per call type: {call type: delta}, no zero delta."
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["agency", "day"], name="call_count_day")]

    def __str__(self) -> str:
        return f"{self.category} {self.unit_code} {self.day}: {self.calls}"

    @classmethod
    def scope_filter(cls, actor: User, scope: Scope) -> Q:
        base = Q(agency_id=actor.agency_id)
        if scope >= Scope.AGENCY:
            return base
        from wellcheck.accounts.models import Unit

        codes = Unit.objects.filter(pk__in=actor.scope_unit_ids()).values_list("code", flat=True)
        return base & Q(unit_code__in=list(codes))
