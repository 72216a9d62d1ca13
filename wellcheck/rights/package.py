"""The subject access package: everything held about one person, gathered for the records officer.

Holds (DPA 2018 s.45(2)): the personal data (person, every check with its identifying detail,
follow-ups, consents, restricted records, health segments, supplementary statements), the
purposes, the recipients of disclosures and who consulted the records (both from the audit trail:
``disclosure`` and ``consultation`` events targeting the person or their checks), the retention
period of each record, and the person's rights. Items withheld carry their reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q

from wellcheck.audit.events import Category, EventType
from wellcheck.audit.models import AuditEvent
from wellcheck.checks.models import CheckDetail, WellnessCheck
from wellcheck.people.models import ConsentScope, Person
from wellcheck.retention.health import authority_for
from wellcheck.retention.models import (
    CaseLink,
    HealthSegment,
    Mechanism,
    ProtectedRecord,
    RecordClass,
)
from wellcheck.retention.reviews import classify, review_days
from wellcheck.rights.models import SupplementaryStatement

SUBJECT = "data subject"
PURPOSES = [
    "Responding to concerns for a person's safety and welfare (wellness checks).",
    "Protecting life and preventing harm; referring the person to health or support services.",
    "Following up on checks and reviewing whether the help given worked.",
    "Keeping records as required by law and the agency's records policy, and auditing their use.",
]
RIGHTS = [
    "Right of access (DPA 2018 s.45): this answer.",
    "Right to rectification (s.46): ask us to correct inaccurate data or to add a statement.",
    "Right to erasure or restriction (s.47): ask us to erase data, or restrict it where it is "
    "needed as evidence or its accuracy is contested.",
    "Right to a written answer with reasons (s.48), and to complain to the Information "
    "Commissioner or apply to a court.",
]


def _iso(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return (
        value
        if value is None or isinstance(value, bool | int | float | str | list | dict)
        else str(value)
    )


def _label(event: AuditEvent) -> str:
    try:
        return str(EventType(event.event_type).label)
    except ValueError:
        return event.event_type


def _codes(manager: Any) -> list[str]:
    return sorted(c.label for c in manager.all())


def _check_entry(check: WellnessCheck, detail: CheckDetail | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "check_id": str(check.pk),
        "received_at": _iso(check.received_at),
        "unit": check.unit.name,
        "state": check.state,
        "initiator": check.initiator.label if check.initiator else None,
        "reasons": _codes(check.reasons),
        "triage": check.triage.label if check.triage else None,
        "caller_told": check.caller_told,
        "observed": _codes(check.observed),
        "outcome": check.outcome.label if check.outcome else None,
        "referrals": _codes(check.referrals),
        "mental_health_related": check.mental_health_related,
        "follow_ups": [
            {
                "task": f.task,
                "due_on": _iso(f.due_on),
                "completed_at": _iso(f.completed_at),
                "result": f.result,
            }
            for f in check.follow_ups.all()
        ],
    }
    if detail is not None:
        for name in (
            "incident_number",
            "address",
            "latitude",
            "longitude",
            "dispatched_at",
            "arrived_at",
            "cleared_at",
            "triage_rationale",
            "narrative",
        ):
            entry[name] = _iso(getattr(detail, name))
    return entry


def build_package(person: Person) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The package and the automatic redactions (item, reason). No audit here: the service does."""
    redactions: list[dict[str, str]] = []
    details = list(
        CheckDetail.objects.filter(person=person)
        .select_related(
            "check_record__unit",
            "check_record__initiator",
            "check_record__triage",
            "check_record__outcome",
        )
        .order_by("check_record__received_at")
    )
    protected = list(ProtectedRecord.objects.filter(person=person).select_related("check_record"))
    checks: list[dict[str, Any]] = []
    for d in details:
        checks.append(_check_entry(d.check_record, d))
    restricted = []
    for p in protected:
        if p.mechanism == Mechanism.RESTRICTED:
            restricted.append({"check_id": str(p.pk), **dict(p.payload), "status": "restricted"})
        else:
            redactions.append(
                {
                    "item": f"sealed_records[{p.pk}]",
                    "reason": "Sealed by a privileged decision (s.45(4)); the record exists and is "
                    "held under seal.",
                }
            )
    check_ids = [d.check_record_id for d in details] + [p.pk for p in protected]
    health = []
    for seg in HealthSegment.objects.filter(person=person).prefetch_related("authorities"):
        if authority_for(seg, SUBJECT) is not None:
            health.append(
                {
                    "check_id": str(seg.check_record_id),
                    "kind": seg.get_tag_display(),
                    "source": seg.source,
                    "content": seg.content,
                }
            )
        else:
            redactions.append(
                {
                    "item": f"health_segments[{seg.pk}]",
                    "reason": f"{seg.get_tag_display()}: released only with the person's recorded "
                    "consent or a court order (HIPAA / 42 CFR Part 2); none is recorded.",
                }
            )
    targets = Q(target_type="people.person", target_id=str(person.pk)) | Q(
        target_type="checks.wellnesscheck", target_id__in=[str(i) for i in check_ids]
    )
    trail = list(
        AuditEvent.objects.filter(targets, agency_id=person.agency_id)
        .filter(category__in=[Category.CONSULTATION, Category.DISCLOSURE])
        .order_by("occurred_at")
    )
    checks_by_id = {str(d.check_record_id): d.check_record for d in details}
    supported = set(
        person.consents.active()
        .filter(scope__in=[ConsentScope.SUPPORT_PROFILE, ConsentScope.ONGOING_SUPPORT])
        .values_list("person_id", flat=True)
    )
    cases = set(CaseLink.objects.filter(pk__in=check_ids).values_list("pk", flat=True))
    retention = []
    for cid, check in checks_by_id.items():
        cls = classify(
            check,
            protection=None,
            has_case=check.pk in cases,
            person_id=person.pk,
            supported=supported,
        )
        retention.append(
            {
                "check_id": cid,
                "record_class": RecordClass(cls).label,
                "review_every_days": review_days(check.agency_id, cls),
            }
        )
    package = {
        "generated_at": _iso(dt.datetime.now(dt.UTC)),
        "person": {
            "id": str(person.pk),
            "given_name": person.given_name,
            "family_name": person.family_name,
            "date_of_birth": _iso(person.date_of_birth),
            "aliases": list(person.aliases or []),
        },
        "checks": checks,
        "restricted_records": restricted,
        "health_segments": health,
        "consents": [
            {
                "scope": c.get_scope_display(),
                "method": c.method,
                "taken_at": _iso(c.taken_at),
                "expires_at": _iso(c.expires_at),
                "withdrawn_at": _iso(c.withdrawn_at),
                "lapsed_at": _iso(c.lapsed_at),
            }
            for c in person.consents.all()
        ],
        "supplementary_statements": [
            {
                "check_id": str(s.check_record_id) if s.check_record_id else None,
                "statement": s.statement,
                "recorded_at": _iso(s.recorded_at),
            }
            for s in SupplementaryStatement.objects.filter(person=person).order_by("recorded_at")
        ],
        "purposes": PURPOSES,
        "recipients": [
            {"when": _iso(e.occurred_at), "recipients": e.recipients, "what": _label(e)}
            for e in trail
            if e.category == Category.DISCLOSURE
        ],
        "who_looked": [
            {
                "when": _iso(e.occurred_at),
                "who": e.actor_name,
                "what": _label(e),
                "reason": e.reason,
            }
            for e in trail
            if e.category == Category.CONSULTATION
        ],
        "retention": retention,
        "rights": RIGHTS,
    }
    return package, redactions
