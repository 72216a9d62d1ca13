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
    },
    Role.AUDITOR: {
        A.AUDIT_VIEW: S.AGENCY,
    },
    Role.ADMIN: {action: S.AGENCY for action in Action if action != A.AUDIT_VIEW},
    Role.PARTNER: {},
}


def scope_for(actor: User, action: Action | str) -> Scope | None:
    """The scope the actor holds for ``action``, or None. Inactive or agency-less users hold none."""
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return None
    if actor.agency_id is None:
        return None
    return DEFAULT_MATRIX.get(actor.role, {}).get(Action(action))


def can(actor: User, action: Action | str) -> bool:
    """True when the actor holds the action at any scope (a coarse check for menus and routes)."""
    return scope_for(actor, action) is not None
