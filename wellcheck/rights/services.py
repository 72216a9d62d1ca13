"""Writes for the person's rights: subject access (answered within one calendar month, as JSON
and PDF, redactions with reasons), rectification with a supplementary statement, erasure or
restriction, each decided in writing with reasons. Reached through ``restrict`` with
``rights.manage`` (a records officer); every step is audited without plaintext.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from wellcheck.accounts.models import User
from wellcheck.accounts.permissions import Action
from wellcheck.audit.events import EventType
from wellcheck.audit.services import audit_record
from wellcheck.checks.models import CheckDetail
from wellcheck.core.errors import InvalidTransition, ServiceError
from wellcheck.people.models import Person
from wellcheck.rights.models import (
    Redaction,
    RequestStatus,
    RightsKind,
    RightsRequest,
    SubjectAccessRequest,
    SupplementaryStatement,
)
from wellcheck.rights.package import SUBJECT, build_package

REDACTED = "[withheld]"


def one_month_after(day: dt.date) -> dt.date:
    """The same day next month, or that month's last day (31 Jan -> 28/29 Feb)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _person(actor: User, person: Person) -> Person:
    found = Person.objects.restrict(actor, Action.SUBJECT_RIGHTS).filter(pk=person.pk).first()
    if found is None:
        raise Http404("No such person.")
    return found


def _text(value: str, field: str) -> str:
    if not value.strip():
        raise ServiceError("This is required.", field=field)
    return value.strip()


@transaction.atomic
def subject_access_open(
    *,
    actor: User,
    person: Person,
    requester: str,
    identity_checked: str,
    received_on: dt.date | None = None,
) -> SubjectAccessRequest:
    person = _person(actor, person)
    received = received_on or timezone.localdate()
    sar = SubjectAccessRequest(
        agency_id=person.agency_id,
        person=person,
        requester=_text(requester, "requester"),
        identity_checked=_text(identity_checked, "identity_checked"),
        received_on=received,
        due_on=one_month_after(received),
        handled_by=actor,
    )
    sar.save(force_insert=True)
    audit_record(
        actor=actor,
        event_type=EventType.SUBJECT_ACCESS_OPENED,
        target=person,
        details={"request": str(sar.pk), "due_on": sar.due_on.isoformat()},
    )
    return sar


def _apply_redaction(package: dict[str, Any], item: str) -> None:
    """``checks[0].narrative`` style paths; an unknown path is an error naming it."""
    node: Any = package
    parts = item.replace("]", "").replace("[", ".").split(".")
    try:
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        last = parts[-1]
        if isinstance(node, list):
            node[int(last)] = REDACTED
        else:
            if last not in node:
                raise KeyError(last)
            node[last] = REDACTED
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        raise ServiceError(f"Nothing to withhold at {item}.", field="redactions") from exc


@transaction.atomic
def subject_access_answer(
    *, actor: User, request: SubjectAccessRequest, redactions: list[tuple[str, str]] = ()
) -> dict[str, Any]:
    """Build the package, apply the officer's redactions (each with a reason) and the automatic
    ones, keep the answer (encrypted) and mark the request answered. Returns the package."""
    sar = (
        SubjectAccessRequest.objects.restrict(actor, Action.SUBJECT_RIGHTS)
        .select_for_update()
        .filter(pk=request.pk)
        .first()
    )
    if sar is None or sar.person_id is None:
        raise Http404("No such request.")
    if sar.status != RequestStatus.OPEN:
        raise InvalidTransition("This request was already answered.", field="request")
    package, automatic = build_package(Person.objects.get(pk=sar.person_id))
    withheld = list(automatic)
    for item, reason in redactions:
        _apply_redaction(package, item)
        withheld.append({"item": item, "reason": _text(reason, "redactions")})
    package["request"] = {
        "id": str(sar.pk),
        "received_on": sar.received_on.isoformat(),
        "due_on": sar.due_on.isoformat(),
        "answered_on": timezone.localdate().isoformat(),
    }
    package["redactions"] = withheld
    Redaction.objects.bulk_create(
        [Redaction(request=sar, item=w["item"], reason=w["reason"]) for w in withheld]
    )
    sar.answer, sar.status, sar.answered_at = package, RequestStatus.ANSWERED, timezone.now()
    sar.save(update_fields=["answer", "status", "answered_at"])
    audit_record(
        actor=actor,
        event_type=EventType.SUBJECT_ACCESS_ANSWERED,
        target_type="people.person",
        target_id=str(sar.person_id),
        recipients=[SUBJECT],
        details={
            "request": str(sar.pk),
            "checks": len(package["checks"]),
            "redactions": len(withheld),
            "late": timezone.localdate() > sar.due_on,
        },
    )
    return package


@transaction.atomic
def rights_request_open(
    *,
    actor: User,
    person: Person,
    kind: str,
    request_text: str,
    received_on: dt.date | None = None,
) -> RightsRequest:
    person = _person(actor, person)
    if kind not in RightsKind.values:
        raise ServiceError("Choose rectification, erasure or restriction.", field="kind")
    received = received_on or timezone.localdate()
    row = RightsRequest(
        agency_id=person.agency_id,
        person=person,
        kind=kind,
        request_text=_text(request_text, "request_text"),
        received_on=received,
        due_on=one_month_after(received),
    )
    row.save(force_insert=True)
    audit_record(
        actor=actor,
        event_type=EventType.RIGHTS_REQUEST_RECEIVED,
        target=person,
        details={"request": str(row.pk), "kind": kind},
    )
    return row


def _locked_request(actor: User, request: RightsRequest, kind: str) -> RightsRequest:
    row = (
        RightsRequest.objects.restrict(actor, Action.SUBJECT_RIGHTS)
        .select_for_update()
        .filter(pk=request.pk, kind=kind)
        .first()
    )
    if row is None:
        raise Http404("No such request.")
    if row.status != RequestStatus.OPEN:
        raise InvalidTransition("This request was already decided.", field="request")
    return row


def _decide(*, actor: User, row: RightsRequest, status: str, outcome: str) -> None:
    row.status, row.outcome = status, _text(outcome, "outcome")
    row.decided_by, row.decided_at = actor, timezone.now()
    row.save(update_fields=["status", "outcome", "decided_by", "decided_at"])
    audit_record(
        actor=actor,
        event_type=EventType.RIGHTS_REQUEST_DECIDED,
        target_type="people.person",
        target_id=str(row.person_id) if row.person_id else "",
        details={"request": str(row.pk), "kind": row.kind, "status": status},
    )


@transaction.atomic
def rectification_decide(
    *,
    actor: User,
    request: RightsRequest,
    status: str,
    outcome: str,
    corrections: dict[str, Any] | None = None,
    supplementary_statement: str = "",
    check_id: object = None,
) -> RightsRequest:
    """Correct the person's data (``corrections`` of name or birth date) and/or add their
    supplementary statement; or refuse. ``outcome`` is the written answer with reasons."""
    row = _locked_request(actor, request, RightsKind.RECTIFICATION)
    if status not in {RequestStatus.GRANTED, RequestStatus.PARTLY, RequestStatus.REFUSED}:
        raise ServiceError("Choose granted, partly granted or refused.", field="status")
    person = Person.objects.select_for_update().get(pk=row.person_id)
    allowed = {"given_name", "family_name", "date_of_birth"}
    for name, value in (corrections or {}).items():
        if name not in allowed:
            raise ServiceError(f"{name} cannot be corrected here.", field="corrections")
        setattr(person, name, value)
    if corrections:
        person.save()
    if supplementary_statement.strip():
        if (
            check_id is not None
            and not CheckDetail.objects.filter(pk=check_id, person=person).exists()
        ):
            raise ServiceError("That check is not about this person.", field="check_id")
        SupplementaryStatement(
            person=person,
            check_record_id=check_id,
            request=row,
            statement=supplementary_statement.strip(),
            recorded_by=actor,
            recorded_at=timezone.now(),
        ).save(force_insert=True)
    _decide(actor=actor, row=row, status=status, outcome=outcome)
    return row


@transaction.atomic
def erasure_decide(
    *,
    actor: User,
    request: RightsRequest,
    status: str,
    outcome: str,
    restrict_instead: bool = False,
) -> RightsRequest:
    """Grant (crypto-shred the person; their checks stay as tallies), restrict instead (s.47(2):
    needed as evidence or accuracy contested), or refuse; always with a written outcome."""
    from wellcheck.people.services import person_erase

    row = _locked_request(actor, request, RightsKind.ERASURE)
    if status not in {RequestStatus.GRANTED, RequestStatus.PARTLY, RequestStatus.REFUSED}:
        raise ServiceError("Choose granted, partly granted or refused.", field="status")
    person = Person.objects.filter(pk=row.person_id).first()
    if person is None:
        raise InvalidTransition("The person no longer exists.", field="request")
    _decide(actor=actor, row=row, status=status, outcome=outcome)
    if restrict_instead:
        _restrict_all(actor=actor, person=person, reason=f"Erasure request {row.pk}: restricted")
    elif status == RequestStatus.GRANTED:
        person_erase(actor=actor, person=person, reason=f"Erasure request {row.pk}")
    return row


@transaction.atomic
def restriction_decide(
    *, actor: User, request: RightsRequest, status: str, outcome: str
) -> RightsRequest:
    """Grant (restrict every check of the person: kept, out of normal use) or refuse."""
    row = _locked_request(actor, request, RightsKind.RESTRICTION)
    if status not in {RequestStatus.GRANTED, RequestStatus.REFUSED}:
        raise ServiceError("Choose granted or refused.", field="status")
    person = Person.objects.get(pk=row.person_id)
    if status == RequestStatus.GRANTED:
        _restrict_all(actor=actor, person=person, reason=f"Restriction request {row.pk}")
    _decide(actor=actor, row=row, status=status, outcome=outcome)
    return row


def _restrict_all(*, actor: User, person: Person, reason: str) -> int:
    from wellcheck.retention.protection import record_restrict

    details = list(CheckDetail.objects.filter(person=person).select_related("check_record"))
    for detail in details:
        record_restrict(actor=actor, check=detail.check_record, reason=reason)
    return len(details)
