"""Writes to agencies, users and tokens, each with its audit event in the same transaction."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone

from wellcheck.accounts.models import Agency, RecordPolicy, Unit, User
from wellcheck.accounts.models_tokens import ApiToken
from wellcheck.accounts.permissions import Action, Role, can
from wellcheck.accounts.tokens import PREFIX_LEN, digest, new_raw_token
from wellcheck.audit.events import EventType
from wellcheck.audit.services import audit_record
from wellcheck.core.errors import ServiceError


@transaction.atomic
def agency_set_record_policy(*, actor: User, agency: Agency, policy: str, reason: str) -> Agency:
    """Change the record policy. Never rewrites past records: it applies to checks written after.
    (Turning existing records into tallies is a per-person decision: consent withdrawal or
    lapse.)"""
    if not can(actor, Action.POLICY_CHANGE) or actor.agency_id != agency.pk:
        raise ServiceError("Only an administrator of this agency may change its record policy.")
    if policy not in RecordPolicy.values:
        raise ServiceError(f"Unknown record policy: {policy}.", field="record_policy")
    if not reason.strip():
        raise ServiceError(
            "Give the reason for the change (e.g. the policy document).", field="reason"
        )
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    old = agency.record_policy
    if old == policy:
        return agency
    agency.record_policy = policy
    agency.save(update_fields=["record_policy"])
    audit_record(
        actor=actor,
        event_type=EventType.POLICY_CHANGED,
        target=agency,
        reason=reason.strip(),
        changes={"record_policy": {"from": old, "to": policy}},
    )
    return agency


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    agency: Agency,
    username: str,
    password: str,
    role: str,
    unit: Unit | None = None,
    first_name: str = "",
    last_name: str = "",
    badge_number: str = "",
) -> User:
    """Create a user; the password must pass the validators (length, banned list, not the name)."""
    if role not in Role.values:
        raise ServiceError(f"Unknown role: {role}.", field="role")
    if unit is not None and unit.agency_id != agency.pk:
        raise ServiceError("The unit belongs to another agency.", field="unit")
    user = User(
        username=username,
        agency=agency,
        unit=unit,
        role=role,
        first_name=first_name,
        last_name=last_name,
        badge_number=badge_number,
    )
    validate_password(password, user)
    user.set_password(password)
    user.save()
    audit_record(
        actor=actor,
        event_type=EventType.USER_CREATED,
        target=user,
        agency_id=agency.pk,
        details={"role": role, "unit": unit.code if unit else None},
    )
    return user


@transaction.atomic
def token_issue(
    *, actor: User | None, user: User, name: str, days: int | None = 365
) -> tuple[ApiToken, str]:
    """Issue an API token. Returns the stored row and the plaintext, which is shown only once."""
    raw = new_raw_token()
    expires = timezone.now() + dt.timedelta(days=days) if days else None
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[:PREFIX_LEN], digest=digest(raw), expires_at=expires
    )
    audit_record(
        actor=actor,
        event_type=EventType.TOKEN_ISSUED,
        target=user,
        agency_id=user.agency_id,
        details={
            "token": token.prefix,
            "name": name,
            "expires_at": expires.isoformat() if expires else None,
        },
        component="cli" if actor is None else "web",
    )
    return token, raw
