"""Grant and role changes: data overrides of the code matrix, each an audit event.

An agency administrator may narrow or widen what a role holds in their agency. Two limits are
hard-coded (see ``permissions.IDENTITY_ACTIONS``): no override may give an analyst or an auditor
identity, and the administrator cannot grant itself the audit trail.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from wellcheck.accounts.models import Agency, Unit, User
from wellcheck.accounts.models_access import Grant
from wellcheck.accounts.permissions import (
    IDENTITY_ACTIONS,
    NEVER_IDENTIFYING_ROLES,
    Action,
    Role,
    Scope,
    can,
    clear_grant_cache,
    default_scope,
)
from wellcheck.audit.events import EventType
from wellcheck.audit.services import audit_record
from wellcheck.core.errors import ServiceError


def _name(scope: Scope | None) -> str | None:
    return scope.name.lower() if scope is not None else None


def effective_matrix(agency: Agency) -> dict[str, dict[str, Scope | None]]:
    """Role -> action -> scope for this agency (code defaults with its overrides applied)."""
    overrides = {
        (g.role, g.action): (Scope(g.scope) if g.scope else None)
        for g in Grant.objects.filter(agency=agency)
    }
    return {
        role: {
            action: overrides.get((role, action), default_scope(role, action))
            for action in Action.values
        }
        for role in Role.values
    }


@transaction.atomic
def grant_set(
    *, actor: User, agency: Agency, role: str, action: str, scope: Scope | None, reason: str
) -> Grant | None:
    """Set the scope a role holds for an action in one agency (None: take it away).

    Setting the code default removes the override row. Returns the override row, or None.
    """
    if not can(actor, Action.USER_MANAGE) or actor.agency_id != agency.pk:
        raise ServiceError("Only an administrator of this agency may change grants.")
    if role not in Role.values:
        raise ServiceError(f"Unknown role: {role}.", field="role")
    if action not in Action.values:
        raise ServiceError(f"Unknown action: {action}.", field="action")
    if not reason.strip():
        raise ServiceError("Give the reason for the change.", field="reason")
    if scope is not None and role in NEVER_IDENTIFYING_ROLES and action in IDENTITY_ACTIONS:
        raise ServiceError(
            f"The {role} role may never see identity; {action} cannot be granted to it.",
            field="scope",
        )
    if scope is not None and role == Role.ADMIN and action == Action.AUDIT_VIEW:
        raise ServiceError(
            "Administrators do not read the audit trail (separation of duties).", field="scope"
        )
    current = (
        Grant.objects.select_for_update().filter(agency=agency, role=role, action=action).first()
    )
    old = (
        (Scope(current.scope) if current.scope else None)
        if current
        else default_scope(role, action)
    )
    if old == scope:
        return current
    row: Grant | None
    if scope == default_scope(role, action):
        if current is not None:
            current.delete()
        row = None
    else:
        row, _ = Grant.objects.update_or_create(
            agency=agency,
            role=role,
            action=action,
            defaults={
                "scope": scope.value if scope else None,
                "changed_by": actor,
                "changed_at": timezone.now(),
            },
        )
    audit_record(
        actor=actor,
        event_type=EventType.GRANT_CHANGED,
        target_type="accounts.grant",
        target_id=f"{role}:{action}",
        agency_id=agency.pk,
        reason=reason.strip(),
        changes={"scope": {"from": _name(old), "to": _name(scope)}},
    )
    clear_grant_cache(actor)
    return row


@transaction.atomic
def user_set_role(*, actor: User, user: User, role: str, unit: Unit | None, reason: str) -> User:
    """Change a user's role or unit (a permission change, audited)."""
    if not can(actor, Action.USER_MANAGE) or actor.agency_id != user.agency_id:
        raise ServiceError("Only an administrator of this agency may change roles.")
    if role not in Role.values:
        raise ServiceError(f"Unknown role: {role}.", field="role")
    if unit is not None and unit.agency_id != user.agency_id:
        raise ServiceError("The unit belongs to another agency.", field="unit")
    if not reason.strip():
        raise ServiceError("Give the reason for the change.", field="reason")
    locked = User.objects.select_for_update().get(pk=user.pk)
    before = {"role": locked.role, "unit": locked.unit_id}
    locked.role, locked.unit = role, unit
    locked.save(update_fields=["role", "unit"])
    after = {"role": role, "unit": unit.pk if unit else None}
    audit_record(
        actor=actor,
        event_type=EventType.ROLE_CHANGED,
        target=locked,
        reason=reason.strip(),
        changes={k: {"from": before[k], "to": after[k]} for k in before if before[k] != after[k]},
    )
    clear_grant_cache(locked)
    return locked
