"""Seal, restrict and expunge: three separate mechanisms (Axon Records pattern).

* **seal**: the identifying record leaves normal use (the check reads as a tally), cannot be
  read at all while sealed, and comes back unchanged on ``record_unseal``. Privileged, audited.
* **restrict**: the identifying record is kept for evidence, out of normal use; a records officer
  may read it with a stated reason (audited); retention disposal is refused while restricted.
* **expunge**: the check is deleted for good (its person too, with their data key, when nothing
  else refers to them). Only the audit event remains.

Each service locks the check, is reached through ``restrict(actor, RECORD_PROTECT)`` (404 for a
check the actor may not act on), and writes its audit event in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from wellcheck.accounts.models import User
from wellcheck.accounts.permissions import Action
from wellcheck.audit.events import EventType
from wellcheck.audit.services import audit_record
from wellcheck.checks.models import CheckDetail, RecordMode, WellnessCheck
from wellcheck.core.errors import InvalidTransition, ServiceError
from wellcheck.retention.models import Mechanism, ProtectedRecord

DETAIL_FIELDS = (
    "incident_number",
    "address",
    "address_key",
    "latitude",
    "longitude",
    "dispatched_at",
    "arrived_at",
    "cleared_at",
    "triage_rationale",
    "narrative",
)
TIMES = ("dispatched_at", "arrived_at", "cleared_at")
DECIMALS = ("latitude", "longitude")


def _locked_check(actor: User, check_id: object, action: Action) -> WellnessCheck:
    check = (
        WellnessCheck.objects.restrict(actor, action)
        .select_for_update()
        .filter(pk=check_id)
        .first()
    )
    if check is None:
        raise Http404("No such check.")
    return check


def _reason(reason: str) -> str:
    if not reason.strip():
        raise ServiceError("Give the reason.", field="reason")
    return reason.strip()


def _payload(detail: CheckDetail) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in DETAIL_FIELDS:
        value = getattr(detail, name)
        if isinstance(value, dt.datetime | decimal.Decimal):
            value = value.isoformat() if isinstance(value, dt.datetime) else str(value)
        out[name] = value
    out["responder_ids"] = sorted(detail.responders.values_list("pk", flat=True))
    return out


def _restore(check: WellnessCheck, record: ProtectedRecord) -> CheckDetail:
    data = dict(record.payload)
    responders = data.pop("responder_ids", [])
    for name in TIMES:
        data[name] = dt.datetime.fromisoformat(data[name]) if data.get(name) else None
    for name in DECIMALS:
        data[name] = decimal.Decimal(data[name]) if data.get(name) else None
    detail = CheckDetail(check_record=check, person_id=record.person_id, **data)
    detail.save(force_insert=True)
    detail.responders.set(responders)
    return detail


def _protect(
    *, actor: User, check: WellnessCheck, reason: str, mechanism: str, event: str
) -> ProtectedRecord:
    reason = _reason(reason)
    check = _locked_check(actor, check.pk, Action.RECORD_PROTECT)
    if ProtectedRecord.objects.filter(pk=check.pk).exists():
        raise InvalidTransition("This record is already sealed or restricted.", field="check")
    detail = CheckDetail.objects.select_for_update().filter(pk=check.pk).first()
    if detail is None:
        raise InvalidTransition("A tally holds no identifying record.", field="check")
    record = ProtectedRecord(
        check_record=check,
        agency_id=check.agency_id,
        mechanism=mechanism,
        person_id=detail.person_id,
        previous_mode=check.record_mode,
        payload=_payload(detail),
        reason=reason,
        protected_by=actor,
        protected_at=timezone.now(),
    )
    record.save(force_insert=True)
    detail.delete()
    check.record_mode = RecordMode.TALLY
    check.save(update_fields=["record_mode", "updated_at"])
    audit_record(
        actor=actor,
        event_type=event,
        target=check,
        reason=reason,
        details={"mechanism": mechanism},
    )
    return record


def _unprotect(
    *, actor: User, check: WellnessCheck, reason: str, mechanism: str, event: str
) -> None:
    reason = _reason(reason)
    check = _locked_check(actor, check.pk, Action.RECORD_PROTECT)
    record = ProtectedRecord.objects.select_for_update().filter(pk=check.pk).first()
    if record is None or record.mechanism != mechanism:
        raise InvalidTransition(f"This record is not {mechanism}.", field="check")
    _restore(check, record)
    check.record_mode = record.previous_mode
    check.save(update_fields=["record_mode", "updated_at"])
    record.delete()
    audit_record(actor=actor, event_type=event, target=check, reason=reason)


@transaction.atomic
def record_seal(*, actor: User, check: WellnessCheck, reason: str) -> ProtectedRecord:
    """Seal: hide the identifying record entirely (reversible with ``record_unseal``)."""
    return _protect(
        actor=actor,
        check=check,
        reason=reason,
        mechanism=Mechanism.SEALED,
        event=EventType.RECORD_SEALED,
    )


@transaction.atomic
def record_unseal(*, actor: User, check: WellnessCheck, reason: str) -> None:
    """Unseal: the identifying record returns exactly as it was."""
    _unprotect(
        actor=actor,
        check=check,
        reason=reason,
        mechanism=Mechanism.SEALED,
        event=EventType.RECORD_UNSEALED,
    )


@transaction.atomic
def record_restrict(*, actor: User, check: WellnessCheck, reason: str) -> ProtectedRecord:
    """Restrict: keep for evidence, out of normal use (readable with a reason, not disposable)."""
    return _protect(
        actor=actor,
        check=check,
        reason=reason,
        mechanism=Mechanism.RESTRICTED,
        event=EventType.RECORD_RESTRICTED,
    )


@transaction.atomic
def record_unrestrict(*, actor: User, check: WellnessCheck, reason: str) -> None:
    _unprotect(
        actor=actor,
        check=check,
        reason=reason,
        mechanism=Mechanism.RESTRICTED,
        event=EventType.RECORD_UNRESTRICTED,
    )


@transaction.atomic
def protected_record_view(*, actor: User, check_id: object, reason: str) -> dict[str, Any]:
    """Read a restricted record for evidence, with a reason (audited). Sealed ones stay unread."""
    reason = _reason(reason)
    record = (
        ProtectedRecord.objects.restrict(actor, Action.RECORD_PROTECTED_VIEW)
        .filter(pk=check_id)
        .first()
    )
    if record is None:
        raise Http404("No such record.")
    if record.mechanism == Mechanism.SEALED:
        raise InvalidTransition(
            "A sealed record cannot be read; unsealing is audited.", field="check"
        )
    audit_record(
        actor=actor,
        event_type=EventType.PROTECTED_RECORD_VIEWED,
        target_type="checks.wellnesscheck",
        target_id=str(record.pk),
        reason=reason,
        details={"mechanism": record.mechanism},
    )
    return dict(record.payload)


@transaction.atomic
def record_expunge(*, actor: User, check: WellnessCheck, reason: str) -> None:
    """Delete the check for good. A person nothing else refers to is erased (key destroyed)."""
    from wellcheck.people.models import Person
    from wellcheck.people.services import person_erase

    reason = _reason(reason)
    check = _locked_check(actor, check.pk, Action.RECORD_PROTECT)
    detail = CheckDetail.objects.filter(pk=check.pk).first()
    record = ProtectedRecord.objects.filter(pk=check.pk).first()
    person_id = (detail.person_id if detail else None) or (record.person_id if record else None)
    check_id, agency_id = check.pk, check.agency_id
    check.delete()
    audit_record(
        actor=actor,
        event_type=EventType.RECORD_EXPUNGED,
        target_type="checks.wellnesscheck",
        target_id=str(check_id),
        agency_id=agency_id,
        reason=reason,
    )
    if person_id is not None:
        person = Person.objects.filter(pk=person_id).first()
        still_used = (
            CheckDetail.objects.filter(person_id=person_id).exists()
            or ProtectedRecord.objects.filter(person_id=person_id).exists()
        )
        if person is not None and not still_used:
            person_erase(actor=actor, person=person, reason=f"Expunged: {reason}")
