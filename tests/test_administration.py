"""The administrator's agency settings: record policy (audited, with reason), consent period,
agency codes that extend the shared taxonomy."""

from __future__ import annotations

from django.urls import reverse

from wellcheck.accounts.models import Agency, RecordPolicy
from wellcheck.audit.models import AuditEvent
from wellcheck.checks.inputs import CheckInput
from wellcheck.checks.models import Code, RecordMode
from wellcheck.checks.services import check_create
from wellcheck.testing.personas import World, recent


def test_admin_changes_policy_with_reason_and_past_records_stay(client, world: World) -> None:
    old = check_create(
        actor=world.officer_a,
        data=CheckInput(unit_id=world.unit_a.pk, received_at=recent(), address="5 Old St"),
    )
    client.force_login(world.admin)
    url = reverse("administration:agency")
    bad = client.post(url, {"policy-record_policy": "consent_only", "policy-reason": ""})
    assert bad.status_code == 400 and b"This field is required" in bad.content
    assert Agency.objects.get(pk=world.agency.pk).record_policy == RecordPolicy.FULL
    ok = client.post(url, {"policy-record_policy": "consent_only", "policy-reason": "GO 2026-14"})
    assert ok.status_code == 302
    assert Agency.objects.get(pk=world.agency.pk).record_policy == RecordPolicy.CONSENT_ONLY
    event = AuditEvent.objects.get(event_type="agency.policy_changed")
    assert event.reason == "GO 2026-14" and event.actor_id == world.admin.pk
    assert event.changes == {"record_policy": {"from": "full", "to": "consent_only"}}
    old.refresh_from_db()
    assert old.record_mode == RecordMode.IDENTIFIED  # never silently rewritten
    new = check_create(
        actor=world.officer_a,
        data=CheckInput(unit_id=world.unit_a.pk, received_at=recent(), address="6 New St"),
    )
    assert new.record_mode == RecordMode.TALLY


def test_only_admin_reaches_settings(client, world: World) -> None:
    for persona in (world.officer_a, world.supervisor_a, world.analyst, world.auditor):
        client.force_login(persona)
        assert client.get(reverse("administration:agency")).status_code == 403
    client.force_login(world.admin)
    assert client.get(reverse("administration:agency")).status_code == 200


def test_agency_code_extends_taxonomy_and_is_usable(client, world: World) -> None:
    client.force_login(world.admin)
    url = reverse("administration:codes")
    clash = client.post(url, {"category": "reason", "code": "dementia", "label": "Dup"})
    assert clash.status_code == 400 and b"already exists" in clash.content
    ok = client.post(url, {"category": "reason", "code": "hoarding", "label": "Hoarding"})
    assert ok.status_code == 302
    code = Code.objects.get(code="hoarding", agency=world.agency)
    check = check_create(
        actor=world.officer_a,
        data=CheckInput(unit_id=world.unit_a.pk, received_at=recent(), reasons=("hoarding",)),
    )
    assert [c.code for c in check.reasons.all()] == ["hoarding"]
    client.post(reverse("administration:code-toggle", args=[code.pk]))
    code.refresh_from_db()
    assert not code.active
    assert AuditEvent.objects.filter(event_type="code.changed").count() == 2


def test_consent_period_bounds(client, world: World) -> None:
    client.force_login(world.admin)
    url = reverse("administration:agency")
    assert client.post(url, {"period-consent_valid_days": "5"}).status_code == 400
    assert client.post(url, {"period-consent_valid_days": "180"}).status_code == 302
    assert Agency.objects.get(pk=world.agency.pk).consent_valid_days == 180
