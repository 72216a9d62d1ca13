"""Reads for the auditor's tools.

Events are read only through ``AuditEvent.objects.restrict(actor, Action.AUDIT_VIEW)`` (the
auditor's own agency). The helpers that look at records tables return ids and unit ids only, never
identity: an auditor holds no right to see a person, only to see who saw them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from wellcheck.accounts.models import User
from wellcheck.accounts.permissions import Action
from wellcheck.audit.events import Category
from wellcheck.audit.models import AuditEvent

CHECK, PERSON = "checks.wellnesscheck", "people.person"


@dataclass(frozen=True)
class EventFilters:
    actor: str = ""  # a username or a numeric user id
    target: str = ""  # a record id (check, person, user...)
    event_type: str = ""
    category: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    seqs: tuple[int, ...] = ()

    def as_details(self) -> dict[str, Any]:
        """The filter as recorded in the AUDIT_READ event (ids and dates, never content)."""
        out = {k: v for k, v in vars(self).items() if v not in ("", None, ())}
        return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in out.items()}


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def _actor_ids(auditor: User, text: str) -> list[int]:
    if auditor.agency_id is None:
        return []
    users = User.objects.filter(agency_id=auditor.agency_id)
    if text.isdigit():
        return list(users.filter(pk=int(text)).values_list("pk", flat=True)) or [int(text)]
    return list(users.filter(username__iexact=text).values_list("pk", flat=True))


def event_search(*, actor: User, filters: EventFilters) -> QuerySet[AuditEvent]:
    """Events of the auditor's agency matching the filters, newest first."""
    events = AuditEvent.objects.restrict(actor, Action.AUDIT_VIEW)
    if filters.actor:
        events = events.filter(actor_id__in=_actor_ids(actor, filters.actor.strip()))
    if filters.target:
        target = filters.target.strip()
        person_checks = person_check_ids(actor, target)
        events = events.filter(
            Q(target_id=target) | Q(target_type=CHECK, target_id__in=person_checks)
        )
    if filters.event_type:
        events = events.filter(event_type=filters.event_type)
    if filters.category:
        events = events.filter(category=filters.category)
    if filters.since:
        events = events.filter(occurred_at__gte=_day_start(filters.since))
    if filters.until:
        events = events.filter(occurred_at__lt=_day_start(filters.until + dt.timedelta(days=1)))
    if filters.seqs:
        events = events.filter(seq__in=filters.seqs)
    return events.order_by("-seq")


def event_get(*, actor: User, seq: int) -> AuditEvent | None:
    return AuditEvent.objects.restrict(actor, Action.AUDIT_VIEW).filter(seq=seq).first()


def person_check_ids(actor: User, person_id: str) -> list[str]:
    """Ids of the checks of a person of the auditor's agency (empty if not a person id)."""
    from wellcheck.checks.models import CheckDetail

    try:
        pid = uuid.UUID(str(person_id))
    except ValueError:
        return []
    if actor.agency_id is None:
        return []
    ids = CheckDetail.objects.filter(
        person_id=pid, check_record__agency_id=actor.agency_id
    ).values_list("check_record_id", flat=True)
    return [str(i) for i in ids]


def person_reads(*, actor: User, person_id: uuid.UUID) -> QuerySet[AuditEvent]:
    """Who looked at this person's records: reads and disclosures of the person or their checks.

    Checks that were de-identified no longer link to the person (their detail row is gone), so
    reads of those checks before de-identification appear under the check, not here.
    """
    checks = person_check_ids(actor, str(person_id))
    return (
        AuditEvent.objects.restrict(actor, Action.AUDIT_VIEW)
        .filter(category__in=(Category.CONSULTATION, Category.DISCLOSURE))
        .filter(
            Q(target_type=PERSON, target_id=str(person_id))
            | Q(target_type=CHECK, target_id__in=checks)
        )
        .order_by("-seq")
    )


def _uuids(ids: set[str]) -> list[uuid.UUID]:
    out = []
    for value in ids:
        try:
            out.append(uuid.UUID(value))
        except ValueError:
            continue
    return out


def check_units(check_ids: set[str]) -> dict[str, set[int]]:
    """Check id -> {unit id} (for the outside-unit rule)."""
    from wellcheck.checks.models import WellnessCheck

    rows = WellnessCheck.objects.filter(pk__in=_uuids(check_ids)).values_list("pk", "unit_id")
    return {str(pk): {unit} for pk, unit in rows}


def person_units(person_ids: set[str]) -> dict[str, set[int]]:
    """Person id -> the units of their checks."""
    from wellcheck.checks.models import CheckDetail

    out: dict[str, set[int]] = {}
    rows = CheckDetail.objects.filter(person_id__in=_uuids(person_ids)).values_list(
        "person_id", "check_record__unit_id"
    )
    for pid, unit in rows:
        out.setdefault(str(pid), set()).add(unit)
    return out


def check_persons(check_ids: set[str]) -> dict[str, str]:
    """Check id -> person id, for checks that still name a person."""
    from wellcheck.checks.models import CheckDetail

    rows = CheckDetail.objects.filter(
        check_record_id__in=_uuids(check_ids), person_id__isnull=False
    ).values_list("check_record_id", "person_id")
    return {str(c): str(p) for c, p in rows}


def person_surname_keys(person_ids: set[str]) -> dict[str, str] | None:
    """Person id -> surname blind index; None when persons carry no such index."""
    from wellcheck.people.models import Person

    if not any(f.name == "family_phonetic_key" for f in Person._meta.get_fields()):
        return None
    rows = Person.objects.filter(pk__in=_uuids(person_ids)).values_list("pk", "family_phonetic_key")
    return {str(pk): key for pk, key in rows if key}


def surname_key(last_name: str) -> str:
    """The same blind index as ``Person.family_phonetic_key``, of an actor's surname."""
    if not last_name:
        return ""
    from wellcheck.crypto.blind import blind, phonetic

    return blind("person.family_phonetic", phonetic(last_name))
