"""Health segments: clinician notes (HIPAA) and 42 CFR Part 2 substance-use records.

Kept apart from the check and encrypted under the person's key. ``health_segment_disclose`` and
every export (the subject access package included) release a segment only under a recorded
consent or court order for that recipient; a refusal is audited in its own transaction.
"""

from __future__ import annotations

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from wellcheck.accounts.models import User
from wellcheck.accounts.permissions import Action
from wellcheck.audit.events import EventType
from wellcheck.audit.services import audit_record, audit_record_failure
from wellcheck.checks.models import CheckDetail, WellnessCheck
from wellcheck.core.errors import ServiceError
from wellcheck.retention.models import (
    AuthorityKind,
    DisclosureAuthority,
    HealthSegment,
    HealthTag,
)


class DisclosureRefused(ServiceError):
    """No recorded consent or court order allows this disclosure."""


@transaction.atomic
def health_segment_record(
    *, actor: User, check: WellnessCheck, tag: str, source: str, content: str
) -> HealthSegment:
    check = WellnessCheck.objects.restrict(actor, Action.CHECK_EDIT).filter(pk=check.pk).first()
    if check is None:
        raise Http404("No such check.")
    if tag not in HealthTag.values:
        raise ServiceError("Choose the kind of health record.", field="tag")
    if not content.strip() or not source.strip():
        raise ServiceError("Give the note and where it came from.", field="content")
    detail = CheckDetail.objects.filter(pk=check.pk).first()
    segment = HealthSegment(
        check_record=check,
        agency_id=check.agency_id,
        person_id=detail.person_id if detail else None,
        tag=tag,
        source=source.strip(),
        content=content.strip(),
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    segment.save(force_insert=True)
    audit_record(
        actor=actor,
        event_type=EventType.HEALTH_SEGMENT_RECORDED,
        target=check,
        details={"tag": tag},
    )
    return segment


@transaction.atomic
def health_authority_record(
    *, actor: User, segment: HealthSegment, kind: str, reference: str, recipient: str
) -> DisclosureAuthority:
    """Record the consent or court order that allows disclosure to ``recipient``."""
    found = (
        HealthSegment.objects.restrict(actor, Action.HEALTH_DISCLOSE).filter(pk=segment.pk).first()
    )
    if found is None:
        raise Http404("No such health record.")
    if kind not in AuthorityKind.values:
        raise ServiceError("Choose consent or court order.", field="kind")
    if not reference.strip() or not recipient.strip():
        raise ServiceError("Give the reference and the recipient.", field="reference")
    row = DisclosureAuthority.objects.create(
        segment=found,
        kind=kind,
        reference=reference.strip(),
        recipient=recipient.strip(),
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    audit_record(
        actor=actor,
        event_type=EventType.HEALTH_AUTHORITY_RECORDED,
        target_type="retention.healthsegment",
        target_id=str(found.pk),
        details={"kind": kind, "recipient": recipient.strip()},
    )
    return row


def authority_for(segment: HealthSegment, recipient: str) -> DisclosureAuthority | None:
    today = timezone.localdate()
    for row in segment.authorities.all():
        if row.recipient.casefold() == recipient.strip().casefold() and (
            row.valid_until is None or row.valid_until >= today
        ):
            return row
    return None


def health_segment_disclose(
    *, actor: User, segment: HealthSegment, recipient: str, purpose: str
) -> str:
    """The note's text for ``recipient``, if a consent or court order allows it; else refused."""
    found = (
        HealthSegment.objects.restrict(actor, Action.HEALTH_DISCLOSE).filter(pk=segment.pk).first()
    )
    if found is None:
        raise Http404("No such health record.")
    authority = authority_for(found, recipient)
    if authority is None:
        audit_record_failure(
            actor=actor,
            event_type=EventType.HEALTH_DISCLOSURE_REFUSED,
            target_type="retention.healthsegment",
            target_id=str(found.pk),
            recipients=[recipient],
            reason=purpose,
            details={"tag": found.tag},
        )
        raise DisclosureRefused(
            f"{found.get_tag_display()}: no recorded consent or court order for this recipient.",
            field="recipient",
        )
    with transaction.atomic():
        audit_record(
            actor=actor,
            event_type=EventType.HEALTH_DISCLOSED,
            target_type="retention.healthsegment",
            target_id=str(found.pk),
            recipients=[recipient],
            reason=purpose,
            details={"tag": found.tag, "authority": authority.kind},
        )
    return found.content
