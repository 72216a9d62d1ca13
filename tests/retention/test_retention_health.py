"""Health segments (HIPAA clinician notes, 42 CFR Part 2) are not disclosed without a recorded
consent or court order for that recipient; refusals and disclosures are audited."""

from __future__ import annotations

import pytest
from django.http import Http404

from wellcheck.audit.models import AuditEvent
from wellcheck.crypto.testing import record_check
from wellcheck.retention.health import (
    DisclosureRefused,
    health_authority_record,
    health_segment_disclose,
    health_segment_record,
)
from wellcheck.retention.models import HealthTag
from wellcheck.testing.personas import World


@pytest.mark.parametrize("tag", [HealthTag.CLINICIAN_NOTE, HealthTag.PART2])
def test_disclosure_needs_consent_or_court_order(world: World, tag: str) -> None:
    check, _, person = record_check(world)
    segment = health_segment_record(
        actor=world.officer_a,
        check=check,
        tag=tag,
        source="Crisis clinician",
        content="Clinical note text",
    )
    assert segment.person_id == person.pk
    with pytest.raises(DisclosureRefused, match="no recorded consent or court order"):
        health_segment_disclose(
            actor=world.records, segment=segment, recipient="County DA", purpose="prosecution"
        )
    refused = AuditEvent.objects.get(event_type="health.disclosure_refused")
    assert refused.outcome == "failure" and refused.recipients == ["County DA"]
    health_authority_record(
        actor=world.records,
        segment=segment,
        kind="court_order",
        reference="Order 2026-44",
        recipient="County DA",
    )
    text = health_segment_disclose(
        actor=world.records, segment=segment, recipient="county da", purpose="prosecution"
    )
    assert text == "Clinical note text"
    with pytest.raises(DisclosureRefused):
        health_segment_disclose(
            actor=world.records, segment=segment, recipient="Newspaper", purpose="story"
        )
    disclosed = AuditEvent.objects.get(event_type="health.disclosed")
    assert disclosed.details == {"tag": tag, "authority": "court_order"}
    assert "Clinical" not in str(disclosed.details)


def test_officer_cannot_disclose(world: World) -> None:
    check, _, _ = record_check(world)
    segment = health_segment_record(
        actor=world.officer_a,
        check=check,
        tag=HealthTag.PART2,
        source="Programme X",
        content="Programme record",
    )
    with pytest.raises(Http404):
        health_segment_disclose(
            actor=world.officer_a, segment=segment, recipient="Anyone", purpose="x"
        )
