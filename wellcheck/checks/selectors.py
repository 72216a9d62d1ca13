"""Reads of wellness checks for pages. Every read goes through ``restrict(actor, action)``.

A check the actor may not see raises ``Http404`` (never 403: that would reveal that it exists).
Reading the identifying part of a check (person, address, narrative, exact times, responders) is
an audited event (``check.viewed``), written by :func:`check_get_identifying` and nowhere else.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from wellcheck.accounts.models import Agency, Unit, User
from wellcheck.accounts.permissions import Action, Role, Scope, scope_for
from wellcheck.audit.events import EventType
from wellcheck.audit.services import audit_read_begin
from wellcheck.checks.models import (
    CheckDetail,
    CheckReview,
    CheckState,
    Code,
    FollowUp,
    ReviewDecision,
    WellnessCheck,
)
from wellcheck.people.models import Consent

LIST_RELATED = ("unit", "initiator", "triage", "outcome", "outcome_review")


def codes_by_category(agency_id: Any) -> dict[str, list[Code]]:
    """Active codes an agency may use, by category: the shared taxonomy plus the agency's own
    (an agency code with the same code as a shared one replaces it). One query."""
    rows = Code.objects.filter(Q(agency__isnull=True) | Q(agency_id=agency_id), active=True)
    chosen: dict[tuple[str, str], Code] = {}
    for code in rows.order_by("agency_id", "sort_order", "label"):
        key = (code.category, code.code)
        if key not in chosen or code.agency_id is not None:
            chosen[key] = code
    out: dict[str, list[Code]] = defaultdict(list)
    for code in sorted(chosen.values(), key=lambda c: (c.sort_order, c.label)):
        out[code.category].append(code)
    return out


def units_for(actor: User, action: Action) -> QuerySet[Unit]:
    """Units in which the actor holds ``action`` (for unit pickers and filters)."""
    scope = scope_for(actor, action)
    if scope is None or actor.agency_id is None:
        return Unit.objects.none()
    units = Unit.objects.filter(agency_id=actor.agency_id)
    if scope >= Scope.AGENCY:
        return units
    return units.filter(pk__in=actor.scope_unit_ids())


def agency_staff(actor: User) -> QuerySet[User]:
    """Active officers and supervisors of the actor's agency (responders, follow-up owners)."""
    if actor.agency_id is None:
        return User.objects.none()
    return User.objects.filter(
        agency_id=actor.agency_id, is_active=True, role__in=[Role.OFFICER, Role.SUPERVISOR]
    ).order_by("last_name", "first_name", "username")


def responder_choices(*, actor: User, check_id: uuid.UUID | None = None) -> QuerySet[User]:
    """Who can be ticked as a responder: staff of the units the actor works in (not the whole
    agency: a phone list of hundreds helps nobody), plus whoever a check already names."""
    staff = agency_staff(actor)
    scope = scope_for(actor, Action.CHECK_CREATE)
    if scope is not None and scope >= Scope.AGENCY:
        return staff
    wanted = Q(unit_id__in=actor.scope_unit_ids()) | Q(pk=actor.pk)
    if check_id is not None:
        through = CheckDetail.responders.through
        wanted |= Q(pk__in=through.objects.filter(checkdetail_id=check_id).values("user_id"))
    return staff.filter(wanted)


@dataclass(frozen=True)
class CheckFilters:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    unit_id: int | None = None
    reason: str = ""
    outcome: str = ""
    state: str = ""
    mental_health: bool | None = None


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def check_list(*, actor: User, filters: CheckFilters | None = None) -> QuerySet[WellnessCheck]:
    """Checks the actor may see, newest first, filtered; related codes loaded in a fixed number
    of queries (no N+1)."""
    f = filters or CheckFilters()
    qs = WellnessCheck.objects.restrict(actor, Action.CHECK_VIEW)
    if f.date_from:
        qs = qs.filter(received_at__gte=_day_start(f.date_from))
    if f.date_to:
        qs = qs.filter(received_at__lt=_day_start(f.date_to + dt.timedelta(days=1)))
    if f.unit_id:
        qs = qs.filter(unit_id=f.unit_id)
    if f.reason:
        qs = qs.filter(reasons__code=f.reason).distinct()
    if f.outcome:
        qs = qs.filter(outcome__code=f.outcome)
    if f.state:
        qs = qs.filter(state=f.state)
    if f.mental_health is not None:
        qs = qs.filter(mental_health_related=f.mental_health)
    return (
        qs.select_related(*LIST_RELATED).prefetch_related("reasons").order_by("-received_at", "id")
    )


def returned_to(*, actor: User) -> QuerySet[WellnessCheck]:
    """Checks returned to the actor for changes, with the return notes (newest first)."""
    notes = CheckReview.objects.filter(decision=ReviewDecision.RETURNED).order_by("-decided_at")
    return (
        WellnessCheck.objects.restrict(actor, Action.CHECK_EDIT)
        .filter(state=CheckState.RETURNED)
        .filter(Q(created_by_id=actor.pk) | Q(assigned_to_id=actor.pk))
        .select_related("unit")
        .prefetch_related(Prefetch("reviews", queryset=notes, to_attr="return_notes"))
        .order_by("received_at")
    )


def review_queue(*, actor: User) -> QuerySet[WellnessCheck]:
    """Submitted checks the actor may review, oldest submission first; their own are left out
    (nobody reviews their own check)."""
    return (
        WellnessCheck.objects.restrict(actor, Action.CHECK_REVIEW)
        .filter(state=CheckState.SUBMITTED)
        .exclude(created_by_id=actor.pk)
        .select_related(*LIST_RELATED, "created_by")
        .prefetch_related("reasons")
        .order_by("submitted_at", "received_at")
    )


def check_get(
    *, actor: User, check_id: uuid.UUID, action: Action = Action.CHECK_VIEW
) -> WellnessCheck:
    """One check the actor holds ``action`` on, with its codes, or 404."""
    check = (
        WellnessCheck.objects.restrict(actor, action)
        .select_related(*LIST_RELATED, "agency", "created_by")
        .prefetch_related(
            "reasons",
            "observed",
            "referrals",
            Prefetch("reviews", queryset=CheckReview.objects.select_related("reviewer")),
        )
        .filter(pk=check_id)
        .first()
    )
    if check is None:
        raise Http404("No such check.")
    return check


@dataclass(frozen=True)
class Identity:
    """The identifying part of a check as read for one actor (already audited)."""

    detail: CheckDetail
    responders: list[User]
    consents: list[Consent]
    follow_ups: list[FollowUp]


RECORD_ACTIONS = (
    Action.CHECK_EDIT,
    Action.CHECK_SUBMIT,
    Action.CHECK_REVIEW,
    Action.CHECK_MARK_MH,
    Action.CHECK_FOLLOW_UP,
)


def check_actions(*, actor: User, check: WellnessCheck) -> set[str]:
    """Which record-level actions the actor holds on this check (to show only usable buttons;
    each action's view asks the door again)."""
    return {
        str(action)
        for action in RECORD_ACTIONS
        if WellnessCheck.objects.restrict(actor, action).filter(pk=check.pk).exists()
    }


def check_get_identifying(*, actor: User, check_id: uuid.UUID, reason: str = "") -> Identity | None:
    """The identifying part of a check, or None (a tally, or no identity right in scope).

    Each read that returns identity writes a ``check.viewed`` audit event (who, when, which check,
    the reason given; never the content)."""
    allowed = WellnessCheck.objects.restrict(actor, Action.CHECK_VIEW_IDENTITY).filter(pk=check_id)
    detail = (
        CheckDetail.objects.filter(check_record__in=allowed)
        .select_related("person", "check_record")
        .first()
    )
    if detail is None:
        return None
    # The event's commit runs beside the remaining queries; it is waited for before returning.
    pending = audit_read_begin(
        actor=actor,
        event_type=EventType.CHECK_VIEWED,
        target=detail.check_record,
        reason=reason,
    )
    responders = list(detail.responders.order_by("username"))
    consents = (
        list(Consent.objects.filter(person_id=detail.person_id).select_related("taken_by"))
        if detail.person_id
        else []
    )
    follow_ups = list(
        FollowUp.objects.filter(check_record_id=check_id).select_related("assigned_to")
    )
    pending.wait()
    return Identity(detail=detail, responders=responders, consents=consents, follow_ups=follow_ups)


def active_consent_scopes(identity: Identity | None) -> list[str]:
    """Scopes the person of a check consented to and that still hold (for prefilling the form)."""
    if identity is None:
        return []
    now = timezone.now()
    return sorted(
        {
            c.scope
            for c in identity.consents
            if c.withdrawn_at is None
            and c.lapsed_at is None
            and (c.expires_at is None or c.expires_at > now)
        }
    )


def follow_up_get(*, check: WellnessCheck, follow_up_id: int) -> FollowUp:
    """A follow-up of a check the caller already fetched through the door, or 404."""
    follow_up = FollowUp.objects.filter(check_record_id=check.pk, pk=follow_up_id).first()
    if follow_up is None:
        raise Http404("No such follow-up.")
    return follow_up


def agency_of(actor: User) -> Agency:
    """The actor's agency (an actor who reaches a check page has one: ``scope_for`` needs it)."""
    if actor.agency_id is None:
        raise Http404("No agency.")
    return Agency.objects.get(pk=actor.agency_id)
