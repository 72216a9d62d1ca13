"""The permission manifest: every action, every role, and the scope each role holds.

This module is the one place where access is decided. ``restrict(actor, action)`` asks
:func:`scope_for`; views declare the action they need (see ``wellcheck.core.routes``), and a test
walks the URL configuration so that no route exists without a rule.

Scopes nest: AGENCY covers UNIT covers OWN. A role without an entry for an action has no access,
and the door answers with an empty queryset (so views answer 404).
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from wellcheck.accounts.models import User


class Role(models.TextChoices):
    OFFICER = "officer", "Patrol officer"
    SUPERVISOR = "supervisor", "Supervisor"
    ANALYST = "analyst", "Crime analyst"
    RECORDS = "records", "Records and privacy officer"
    AUDITOR = "auditor", "Auditor"
    ADMIN = "admin", "Administrator"
    PARTNER = "partner", "Partner-agency user"


class Scope(IntEnum):
    OWN = 1  # records the actor created or is assigned to
    UNIT = 2  # records of the actor's unit and the units below it
    AGENCY = 3  # every record of the actor's agency


class Action(models.TextChoices):
    CHECK_VIEW = "check.view", "See a check's de-identified facts"
    CHECK_VIEW_IDENTITY = "check.view_identity", "See the person, exact address and narrative"
    CHECK_CREATE = "check.create", "Record a check"
    CHECK_EDIT = "check.edit", "Change a draft or returned check"
    CHECK_SUBMIT = "check.submit", "Submit a check for review"
    CHECK_REVIEW = "check.review", "Approve or return a submitted check"
    CHECK_MARK_MH = "check.mark_mental_health", "Mark a call as mental-health related"
    CHECK_FOLLOW_UP = "check.follow_up", "Create and complete follow-ups and outcome reviews"
    PERSON_VIEW = "person.view", "See a person's identity"
    CONSENT_MANAGE = "consent.manage", "Record or withdraw consent"
    AGGREGATE_VIEW = "aggregate.view", "See de-identified counts and trends"
    AUDIT_VIEW = "audit.view", "Read the audit trail"
    # retention, sealing and the person's rights (issue 5)
    RECORD_PROTECT = "record.protect", "Seal, unseal, restrict or expunge a record"
    RECORD_PROTECTED_VIEW = "record.protected_view", "Read a sealed or restricted record"
    RETENTION_REVIEW = "retention.review", "Decide retention reviews"
    SUBJECT_RIGHTS = "rights.manage", "Handle subject access and other rights requests"
    HEALTH_DISCLOSE = "health.disclose", "Disclose health notes (with consent or an order)"
    CALLS_IMPORT = "calls.import", "Import dispatch (CAD) calls"
    POLICY_CHANGE = "agency.policy_change", "Change the agency's record policy"
    USER_MANAGE = "user.manage", "Manage users, roles and grants"
    TOKEN_ISSUE = "token.issue", "Issue API tokens"
    BREAK_GLASS = "check.break_glass", "Open a record outside one's scope in an emergency"
    BREAK_GLASS_REVIEW = "break_glass.review", "Review emergency (break-the-glass) accesses"


A = Action
S = Scope

DEFAULT_MATRIX: dict[str, dict[str, Scope]] = {
    Role.OFFICER: {
        A.CHECK_VIEW: S.UNIT,
        A.CHECK_VIEW_IDENTITY: S.UNIT,
        A.CHECK_CREATE: S.UNIT,
        A.CHECK_EDIT: S.OWN,
        A.CHECK_SUBMIT: S.OWN,
        A.CHECK_MARK_MH: S.UNIT,
        A.CHECK_FOLLOW_UP: S.OWN,
        A.PERSON_VIEW: S.UNIT,
        A.CONSENT_MANAGE: S.UNIT,
        A.BREAK_GLASS: S.AGENCY,
    },
    Role.SUPERVISOR: {
        A.CHECK_VIEW: S.UNIT,
        A.CHECK_VIEW_IDENTITY: S.UNIT,
        A.CHECK_CREATE: S.UNIT,
        A.CHECK_EDIT: S.UNIT,
        A.CHECK_SUBMIT: S.UNIT,
        A.CHECK_REVIEW: S.UNIT,
        A.CHECK_MARK_MH: S.UNIT,
        A.CHECK_FOLLOW_UP: S.UNIT,
        A.PERSON_VIEW: S.UNIT,
        A.CONSENT_MANAGE: S.UNIT,
        A.AGGREGATE_VIEW: S.UNIT,
        A.BREAK_GLASS: S.AGENCY,
    },
    Role.ANALYST: {
        A.AGGREGATE_VIEW: S.AGENCY,
    },
    Role.RECORDS: {
        A.CHECK_VIEW: S.AGENCY,
        A.CHECK_VIEW_IDENTITY: S.AGENCY,
        A.PERSON_VIEW: S.AGENCY,
        A.CONSENT_MANAGE: S.AGENCY,
        A.CALLS_IMPORT: S.AGENCY,
        A.RECORD_PROTECT: S.AGENCY,
        A.RECORD_PROTECTED_VIEW: S.AGENCY,
        A.RETENTION_REVIEW: S.AGENCY,
        A.SUBJECT_RIGHTS: S.AGENCY,
        A.HEALTH_DISCLOSE: S.AGENCY,
        A.AGGREGATE_VIEW: S.AGENCY,
        A.BREAK_GLASS_REVIEW: S.AGENCY,
    },
    Role.AUDITOR: {
        A.AUDIT_VIEW: S.AGENCY,
    },
    # The administrator runs the system but does not read the audit trail (separation of duties)
    # and never needs to break the glass: it already holds agency scope.
    Role.ADMIN: {
        action: S.AGENCY for action in Action if action not in (A.AUDIT_VIEW, A.BREAK_GLASS)
    },
    # A partner-agency user holds nothing by default: only a sharing agreement (a later issue)
    # or an agency's grant override gives it anything.
    Role.PARTNER: {},
}

# Actions whose scope an agency may never widen by a grant override, whatever the role: an analyst
# or a partner must not be given identity by a data change that bypasses review of this file.
IDENTITY_ACTIONS = frozenset({A.CHECK_VIEW_IDENTITY, A.PERSON_VIEW})
NEVER_IDENTIFYING_ROLES = frozenset({Role.ANALYST, Role.AUDITOR})


def default_scope(role: str, action: Action | str) -> Scope | None:
    """The scope in the code matrix (what an agency starts with)."""
    return DEFAULT_MATRIX.get(role, {}).get(Action(action))


def scope_for(actor: User, action: Action | str) -> Scope | None:
    """The scope the actor holds for ``action``, or None. Inactive or agency-less users hold none.

    The agency's grant overrides (``accounts.Grant`` rows) win over the code matrix. They are read
    once per user object (one small query per request) and cached on it; a grant change clears the
    cache of the actor object it was made through, and every other request loads its user afresh.
    """
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return None
    if actor.agency_id is None:
        return None
    action = Action(action)
    overrides = _overrides(actor)
    if action in overrides:
        return overrides[action]
    return default_scope(actor.role, action)


def _overrides(actor: User) -> dict[str, Scope | None]:
    key = (actor.agency_id, actor.role)
    cached: tuple[object, dict[str, Scope | None]] | None = getattr(actor, "_grant_cache", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    from wellcheck.accounts.models_access import Grant

    agency_id = actor.agency_id
    if agency_id is None:
        return {}
    rows = Grant.objects.filter(agency_id=agency_id, role=actor.role).values_list("action", "scope")
    overrides = {action: (Scope(scope) if scope else None) for action, scope in rows}
    actor._grant_cache = (key, overrides)  # type: ignore[attr-defined]
    return overrides


def clear_grant_cache(actor: object) -> None:
    """Forget the cached grants of one user object (after a grant or role change)."""
    if hasattr(actor, "_grant_cache"):
        delattr(actor, "_grant_cache")


def can(actor: User, action: Action | str) -> bool:
    """True when the actor holds the action at any scope (a coarse check for menus and routes)."""
    return scope_for(actor, action) is not None
