"""Agency configuration: consent revalidation period and the agency's own reference codes.

The record policy itself is changed by ``accounts.services.agency_set_record_policy``. Codes are
never deleted (past checks refer to them): an agency code is deactivated instead.
"""

from __future__ import annotations

import re

from django.db import transaction

from wellcheck.accounts.models import Agency, User
from wellcheck.audit.events import EventType
from wellcheck.audit.services import audit_record
from wellcheck.checks.models import Code
from wellcheck.checks.taxonomy import CodeCategory
from wellcheck.core.errors import ServiceError

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,39}$")


@transaction.atomic
def agency_set_consent_period(*, actor: User, agency: Agency, days: int) -> Agency:
    """Set how long consent holds before it must be renewed (30 to 730 days)."""
    if not 30 <= days <= 730:
        raise ServiceError("Give a period between 30 and 730 days.", field="consent_valid_days")
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    old = agency.consent_valid_days
    if old != days:
        agency.consent_valid_days = days
        agency.save(update_fields=["consent_valid_days"])
        audit_record(
            actor=actor,
            event_type=EventType.AGENCY_SETTINGS_CHANGED,
            target=agency,
            changes={"consent_valid_days": {"from": old, "to": days}},
        )
    return agency


@transaction.atomic
def code_create(*, actor: User, agency: Agency, category: str, code: str, label: str) -> Code:
    """Add an agency code. It may not shadow a shared code of the same category."""
    if category not in CodeCategory.values:
        raise ServiceError(f"Unknown category: {category}.", field="category")
    code = code.strip().lower()
    if not CODE_PATTERN.match(code):
        raise ServiceError(
            "Use 1 to 40 lower-case letters, digits, '_' or '-', starting with a letter or digit.",
            field="code",
        )
    if not label.strip():
        raise ServiceError("Give the label officers will see.", field="label")
    clash = Code.objects.filter(category=category, code=code).filter(agency__isnull=True).exists()
    if clash or Code.objects.filter(agency=agency, category=category, code=code).exists():
        raise ServiceError(f"The code {code!r} already exists in this category.", field="code")
    row = Code.objects.create(
        agency=agency, category=category, code=code, label=label.strip(), sort_order=1000
    )
    audit_record(
        actor=actor,
        event_type=EventType.CODE_CHANGED,
        target=row,
        details={"category": category, "code": code, "action": "created"},
    )
    return row


@transaction.atomic
def code_set_active(*, actor: User, code: Code, active: bool) -> Code:
    """Deactivate (hide from forms) or reactivate one of the agency's own codes."""
    code = Code.objects.select_for_update().get(pk=code.pk)
    if code.agency_id is None:
        raise ServiceError("Shared codes cannot be changed by an agency.", field="code")
    if code.active != active:
        code.active = active
        code.save(update_fields=["active"])
        audit_record(
            actor=actor,
            event_type=EventType.CODE_CHANGED,
            target=code,
            details={"category": code.category, "code": code.code, "active": active},
        )
    return code
