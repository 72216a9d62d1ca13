"""Writes to wellness checks. Each service is typed, keyword-only, runs in one transaction, locks
the row it changes, and writes its audit event in that same transaction.

The record policy is applied here and nowhere else: in a ``consent_only`` agency a check whose
person has not consented to ongoing support is stored as a tally (no ``CheckDetail``, the time cut
to the hour, durations instead of timestamps), and the identifying input is dropped before any
write, log line or audit event sees it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from wellcheck.accounts.models import Agency, RecordPolicy, Unit, User
from wellcheck.accounts.permissions import Action
from wellcheck.audit.events import EventType
from wellcheck.audit.services import audit_record, masked_changes
from wellcheck.checks.inputs import CheckInput
from wellcheck.checks.models import (
    CheckDetail,
    CheckReview,
    CheckState,
    Code,
    FollowUp,
    RecordMode,
    ReviewDecision,
    WellnessCheck,
)
from wellcheck.checks.taxonomy import CodeCategory
from wellcheck.core.blind import address_key
from wellcheck.core.errors import InvalidTransition, ServiceError
from wellcheck.insights.rollups import rollups_mark_dirty  # keeps analytics rollups current

EDITABLE_STATES = {CheckState.IMPORTED, CheckState.DRAFT, CheckState.RETURNED}
SENSITIVE_FIELDS = set(CheckInput.IDENTIFYING)
SINGLE_CODES = {
    "initiator": CodeCategory.INITIATOR,
    "triage": CodeCategory.TRIAGE,
    "outcome": CodeCategory.OUTCOME,
}
MULTI_CODES = {
    "reasons": CodeCategory.REASON,
    "observed": CodeCategory.OBSERVED,
    "referrals": CodeCategory.REFERRAL,
}


# --- helpers ------------------------------------------------------------------------------------


def resolve_codes(agency: Agency, category: str, codes: Iterable[str], *, field: str) -> list[Code]:
    """Codes of the agency or the shared taxonomy; an unknown code is an error naming the field."""
    wanted = [c for c in dict.fromkeys(codes) if c]
    if not wanted:
        return []
    found = {
        c.code: c
        for c in Code.objects.filter(category=category, code__in=wanted, active=True).filter(
            agency__isnull=True
        )
    }
    found.update(
        {c.code: c for c in Code.objects.filter(agency=agency, category=category, code__in=wanted)}
    )
    unknown = [c for c in wanted if c not in found]
    if unknown:
        raise ServiceError(f"Unknown {category} code(s): {', '.join(unknown)}.", field=field)
    return [found[c] for c in wanted]


def _seconds_between(
    start: dt.datetime | None, end: dt.datetime | None, *, field: str
) -> int | None:
    if start is None or end is None:
        return None
    seconds = int((end - start).total_seconds())
    if seconds < 0:
        raise ServiceError("This time is earlier than the one before it.", field=field)
    return seconds


def keeps_identity(agency: Agency, data: CheckInput) -> bool:
    """The policy decision: may this check keep its identifying record?"""
    if agency.record_policy == RecordPolicy.FULL:
        return True
    return data.consent is not None and "ongoing_support" in data.consent.scopes


def _actor_agency(actor: User) -> Agency:
    if actor.agency_id is None:
        raise ServiceError("Your account belongs to no agency.")
    return Agency.objects.get(pk=actor.agency_id)


def _unit_for(actor: User, unit_id: int) -> Unit:
    unit = Unit.objects.filter(pk=unit_id, agency=_actor_agency(actor)).first()
    if unit is None:
        raise ServiceError("Choose a unit (beat) of your agency.", field="unit")
    from wellcheck.accounts.permissions import scope_for

    scope = scope_for(actor, Action.CHECK_CREATE)
    if scope is None:
        raise ServiceError("You may not record checks.", field="unit")
    if scope.name != "AGENCY" and unit.pk not in actor.scope_unit_ids():
        raise ServiceError("You may only record checks for your own unit.", field="unit")
    return unit


def _facts(agency: Agency, data: CheckInput, *, tally: bool) -> dict[str, Any]:
    """The de-identified columns of a check, validated."""
    facts: dict[str, Any] = {}
    for name, category in SINGLE_CODES.items():
        codes = resolve_codes(agency, category, [getattr(data, name)], field=name)
        facts[name] = codes[0] if codes else None
    received = data.received_at
    if timezone.is_naive(received):
        raise ServiceError("Give the time with its time zone.", field="received_at")
    facts["dispatch_seconds"] = _seconds_between(
        received, data.dispatched_at, field="dispatched_at"
    )
    facts["response_seconds"] = _seconds_between(received, data.arrived_at, field="arrived_at")
    facts["on_scene_seconds"] = _seconds_between(
        data.arrived_at, data.cleared_at, field="cleared_at"
    )
    if tally:
        received = received.replace(minute=0, second=0, microsecond=0)
    facts["received_at"] = received
    facts["caller_told"] = data.caller_told
    facts["co_responder_present"] = data.co_responder_present
    return facts


def _multi(agency: Agency, data: CheckInput) -> dict[str, list[Code]]:
    return {
        name: resolve_codes(agency, category, getattr(data, name), field=name)
        for name, category in MULTI_CODES.items()
    }


def _write_detail(*, actor: User, check: WellnessCheck, data: CheckInput) -> CheckDetail:
    from wellcheck.people.services import person_record_at_check

    detail, _ = CheckDetail.objects.get_or_create(check_record=check)
    detail.incident_number = data.incident_number.strip()
    detail.address = data.address.strip()
    detail.address_key = address_key(detail.address)
    detail.latitude = data.latitude
    detail.longitude = data.longitude
    detail.dispatched_at = data.dispatched_at
    detail.arrived_at = data.arrived_at
    detail.cleared_at = data.cleared_at
    detail.triage_rationale = data.triage_rationale.strip()
    detail.narrative = data.narrative.strip()
    if not data.person.is_empty():
        detail.person = person_record_at_check(
            actor=actor,
            agency=check.agency,
            existing=detail.person,
            person=data.person,
            consent=data.consent,
        )
    detail.save()
    if data.responder_ids:
        responders = list(User.objects.filter(pk__in=data.responder_ids, agency_id=check.agency_id))
        if len(responders) != len(set(data.responder_ids)):
            raise ServiceError("A responder is not a user of this agency.", field="responders")
        detail.responders.set(responders)
    else:
        detail.responders.clear()
    return detail


def _snapshot(check: WellnessCheck) -> dict[str, Any]:
    """Comparable values for the audit diff (codes, not labels; identity only as a mask marker)."""
    snap: dict[str, Any] = {
        "unit": check.unit_id,
        "received_at": check.received_at.isoformat() if check.received_at else None,
        "state": check.state,
        "record_mode": check.record_mode,
        "caller_told": check.caller_told,
        "co_responder_present": check.co_responder_present,
        "mental_health_related": check.mental_health_related,
    }
    for name in SINGLE_CODES:
        code = getattr(check, name)
        snap[name] = code.code if code else None
    for name in MULTI_CODES:
        snap[name] = sorted(c.code for c in getattr(check, name).all()) if check.pk else []
    detail = CheckDetail.objects.filter(check_record_id=check.pk).first() if check.pk else None
    for name in ("incident_number", "address", "narrative", "triage_rationale"):
        snap[name] = getattr(detail, name) if detail else None
    snap["person"] = str(detail.person_id) if detail and detail.person_id else None
    return snap


# --- services -----------------------------------------------------------------------------------


@transaction.atomic
def check_create(
    *, actor: User, data: CheckInput, state: str = CheckState.DRAFT, source: str = "entered"
) -> WellnessCheck:
    """Record a check. Returns it as stored: a full record, or a tally under ``consent_only``.
    ``source="imported"`` marks a check taken from dispatch data (e.g. the demo's)."""
    agency = _actor_agency(actor)
    unit = _unit_for(actor, data.unit_id)
    tally = not keeps_identity(agency, data)
    facts = _facts(agency, data, tally=tally)
    multi = _multi(agency, data)
    check = WellnessCheck.objects.create(
        agency=agency,
        unit=unit,
        state=state,
        source=source,
        record_mode=RecordMode.TALLY if tally else RecordMode.IDENTIFIED,
        created_by=actor,
        assigned_to=actor,
        mental_health_related=data.mental_health_related,
        mental_health_marked_at=timezone.now() if data.mental_health_related else None,
        **facts,
    )
    for name, codes in multi.items():
        getattr(check, name).set(codes)
    if not tally:
        _write_detail(actor=actor, check=check, data=data)
    rollups_mark_dirty(agency_id=check.agency_id, day=check.received_at)
    audit_record(
        actor=actor,
        event_type=EventType.CHECK_TALLIED if tally else EventType.CHECK_CREATED,
        target=check,
        details={"record_mode": check.record_mode, "unit": unit.code, "state": check.state},
    )
    return check


@transaction.atomic
def check_update(*, actor: User, check: WellnessCheck, data: CheckInput) -> WellnessCheck:
    """Change a check that is still a draft, imported or returned. Applies the policy again."""
    check = WellnessCheck.objects.select_for_update().get(pk=check.pk)
    if check.state not in EDITABLE_STATES:
        raise InvalidTransition(
            f"A {check.get_state_display().lower()} check cannot be changed.", field="state"
        )
    before = _snapshot(check)
    agency = check.agency
    unit = _unit_for(actor, data.unit_id) if data.unit_id != check.unit_id else check.unit
    tally = not keeps_identity(agency, data)
    facts = _facts(agency, data, tally=tally)
    multi = _multi(agency, data)
    for key, value in facts.items():
        setattr(check, key, value)
    check.unit = unit
    if data.mental_health_related and not check.mental_health_related:
        check.mental_health_marked_at = timezone.now()
    check.mental_health_related = data.mental_health_related or check.mental_health_related
    check.record_mode = RecordMode.TALLY if tally else RecordMode.IDENTIFIED
    check.save()
    for name, codes in multi.items():
        getattr(check, name).set(codes)
    if tally:
        _drop_identity(check)
    else:
        _write_detail(actor=actor, check=check, data=data)
    after = _snapshot(check)
    rollups_mark_dirty(agency_id=check.agency_id, days=(before["received_at"], check.received_at))
    audit_record(
        actor=actor,
        event_type=EventType.CHECK_UPDATED,
        target=check,
        changes=masked_changes(before, after, sensitive=SENSITIVE_FIELDS),
    )
    return check


def _drop_identity(check: WellnessCheck) -> None:
    """Remove the identifying part of a check (the detail row; the person if now orphaned)."""
    detail = CheckDetail.objects.filter(check_record=check).first()
    if detail is None:
        return
    person_id = detail.person_id
    detail.delete()
    if person_id is not None:
        from wellcheck.people.services import person_delete_if_orphaned

        person_delete_if_orphaned(person_id=person_id)


def submit_problems(check: WellnessCheck) -> dict[str, str]:
    """What a check still lacks before it can be submitted, by field."""
    problems: dict[str, str] = {}
    if check.initiator_id is None:
        problems["initiator"] = "Say who asked for the check."
    if not check.reasons.exists():
        problems["reasons"] = "Give at least one reason for concern."
    if check.triage_id is None:
        problems["triage"] = "Record the triage decision."
    if check.outcome_id is None:
        problems["outcome"] = "Record the outcome."
    return problems


@transaction.atomic
def check_submit(*, actor: User, check: WellnessCheck) -> WellnessCheck:
    """Submit for supervisor review. Refused, naming each missing field, if incomplete."""
    check = WellnessCheck.objects.select_for_update().get(pk=check.pk)
    if check.state not in EDITABLE_STATES:
        raise InvalidTransition(
            f"A {check.get_state_display().lower()} check cannot be submitted.", field="state"
        )
    problems = submit_problems(check)
    if problems:
        raise ServiceError({k: [v] for k, v in problems.items()})
    check.state = CheckState.SUBMITTED
    check.submitted_at = timezone.now()
    check.save(update_fields=["state", "submitted_at", "updated_at"])
    rollups_mark_dirty(agency_id=check.agency_id, day=check.received_at)
    audit_record(actor=actor, event_type=EventType.CHECK_SUBMITTED, target=check)
    return check


@transaction.atomic
def check_review(
    *, actor: User, check: WellnessCheck, decision: str, note: str = ""
) -> WellnessCheck:
    """A supervisor approves a submitted check, or returns it with a note saying what to fix."""
    check = WellnessCheck.objects.select_for_update().get(pk=check.pk)
    if check.state != CheckState.SUBMITTED:
        raise InvalidTransition("Only a submitted check can be reviewed.", field="state")
    if check.created_by_id == actor.pk:
        raise ServiceError("You cannot review a check you recorded yourself.", field="decision")
    if decision not in ReviewDecision.values:
        raise ServiceError("Choose approve or return.", field="decision")
    note = note.strip()
    if decision == ReviewDecision.RETURNED and not note:
        raise ServiceError("Say what the officer should fix.", field="note")
    now = timezone.now()
    CheckReview.objects.create(
        check_record=check, reviewer=actor, decision=decision, note=note, decided_at=now
    )
    if decision == ReviewDecision.APPROVED:
        check.state = CheckState.APPROVED
        check.approved_at = now
        event = EventType.CHECK_APPROVED
    else:
        check.state = CheckState.RETURNED
        event = EventType.CHECK_RETURNED
    check.save(update_fields=["state", "approved_at", "updated_at"])
    rollups_mark_dirty(agency_id=check.agency_id, day=check.received_at)
    audit_record(actor=actor, event_type=event, target=check)
    return check


@transaction.atomic
def check_mark_mental_health(
    *, actor: User, check: WellnessCheck, related: bool = True
) -> WellnessCheck:
    """Mark any call, in any state, as mental-health related after the fact (or unmark it)."""
    check = WellnessCheck.objects.select_for_update().get(pk=check.pk)
    if check.mental_health_related == related:
        return check
    check.mental_health_related = related
    check.mental_health_marked_at = timezone.now() if related else None
    check.save(update_fields=["mental_health_related", "mental_health_marked_at", "updated_at"])
    rollups_mark_dirty(agency_id=check.agency_id, day=check.received_at)
    audit_record(
        actor=actor,
        event_type=EventType.CHECK_MARKED_MH,
        target=check,
        changes={"mental_health_related": {"from": not related, "to": related}},
    )
    return check


@transaction.atomic
def follow_up_create(
    *, actor: User, check: WellnessCheck, assigned_to: User, due_on: dt.date, task: str
) -> FollowUp:
    """Give a follow-up an owner and a due date. Only for identifying records (a tally has no one
    to follow up with)."""
    if check.is_tally:
        raise ServiceError("A de-identified tally has no one to follow up with.", field="task")
    if assigned_to.agency_id != check.agency_id:
        raise ServiceError("Assign the follow-up to someone in this agency.", field="assigned_to")
    if not task.strip():
        raise ServiceError("Say what is to be done.", field="task")
    follow_up = FollowUp.objects.create(
        check_record=check,
        assigned_to=assigned_to,
        due_on=due_on,
        task=task.strip(),
        created_by=actor,
    )
    rollups_mark_dirty(agency_id=check.agency_id, day=check.received_at)
    audit_record(
        actor=actor,
        event_type=EventType.FOLLOW_UP_CREATED,
        target=check,
        details={"follow_up": follow_up.pk, "assigned_to": assigned_to.pk, "due_on": str(due_on)},
    )
    return follow_up


@transaction.atomic
def follow_up_complete(*, actor: User, follow_up: FollowUp, result: str) -> FollowUp:
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if follow_up.completed_at is not None:
        raise InvalidTransition("This follow-up is already completed.", field="result")
    follow_up.completed_at = timezone.now()
    follow_up.result = result.strip()
    follow_up.save(update_fields=["completed_at", "result"])
    rollups_mark_dirty(
        agency_id=follow_up.check_record.agency_id, day=follow_up.check_record.received_at
    )
    audit_record(
        actor=actor,
        event_type=EventType.FOLLOW_UP_COMPLETED,
        target=follow_up.check_record,
        details={"follow_up": follow_up.pk},
    )
    return follow_up


@transaction.atomic
def check_outcome_review(*, actor: User, check: WellnessCheck, result: str) -> WellnessCheck:
    """Record whether the help worked: successful, further action needed, or unknown."""
    check = WellnessCheck.objects.select_for_update().get(pk=check.pk)
    code = resolve_codes(
        check.agency, CodeCategory.OUTCOME_REVIEW, [result], field="outcome_review"
    )
    if not code:
        raise ServiceError("Choose a result.", field="outcome_review")
    old = check.outcome_review.code if check.outcome_review else None
    check.outcome_review = code[0]
    check.outcome_reviewed_at = timezone.now()
    check.save(update_fields=["outcome_review", "outcome_reviewed_at", "updated_at"])
    rollups_mark_dirty(agency_id=check.agency_id, day=check.received_at)
    audit_record(
        actor=actor,
        event_type=EventType.OUTCOME_REVIEWED,
        target=check,
        changes={"outcome_review": {"from": old, "to": code[0].code}},
    )
    return check
