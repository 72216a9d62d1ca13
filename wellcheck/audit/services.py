"""Writing audit events. The one way to add a row to the trail.

``audit_record`` joins the caller's transaction, so the event commits or rolls back with the
change it records. ``audit_record_failure`` writes in its own transaction, so a refused or failed
attempt is kept even when the request rolls back.

Each event is appended to the hash chain (``chain.append_event``): appends are serialised, so
concurrent writers never fork the chain and ``seq`` has no gap. Holding the append lock until the
caller's transaction ends is the price of a gap-free chain written in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from wellcheck.audit.chain import append_event
from wellcheck.audit.events import CATEGORY_OF, EventType, Outcome
from wellcheck.audit.models import AuditEvent
from wellcheck.audit.side import PendingEvent, start_append
from wellcheck.core.context import current_client_ip, current_request_id

MASK = "[masked]"


def masked_changes(
    before: Mapping[str, Any], after: Mapping[str, Any], *, sensitive: Iterable[str]
) -> dict[str, Any]:
    """Field-level diff; values of sensitive fields are replaced by a mask (never plaintext)."""
    hidden = set(sensitive)
    diff: dict[str, Any] = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if key in hidden:
            diff[key] = {"from": MASK if old not in (None, "", []) else None, "to": MASK}
        else:
            diff[key] = {"from": _plain(old), "to": _plain(new)}
    return diff


def _plain(value: Any) -> Any:
    if isinstance(value, list | tuple | set):
        return sorted(str(v) for v in value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def audit_record(
    *,
    actor: Any,
    event_type: EventType | str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str = "",
    outcome: Outcome | str = Outcome.SUCCESS,
    reason: str = "",
    recipients: list[str] | None = None,
    changes: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    component: str = "web",
    agency_id: Any = None,
) -> AuditEvent:
    """Append one event in the current transaction (or autocommit when there is none)."""
    return append_event(
        build_event(
            actor=actor,
            event_type=event_type,
            target=target,
            target_type=target_type,
            target_id=target_id,
            outcome=outcome,
            reason=reason,
            recipients=recipients,
            changes=changes,
            details=details,
            component=component,
            agency_id=agency_id,
        )
    )


def audit_read_begin(
    *,
    actor: Any,
    event_type: EventType | str,
    target: models.Model | None = None,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> PendingEvent:
    """Start appending a read event; the caller runs its remaining queries, then ``.wait()``s
    before returning any data. Outside a transaction on PostgreSQL the append overlaps those
    queries (``wellcheck.audit.side``); elsewhere it is appended here, as ``audit_record`` does."""
    event = build_event(
        actor=actor, event_type=event_type, target=target, reason=reason, details=details
    )
    return start_append(event)


def build_event(
    *,
    actor: Any,
    event_type: EventType | str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str = "",
    outcome: Outcome | str = Outcome.SUCCESS,
    reason: str = "",
    recipients: list[str] | None = None,
    changes: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    component: str = "web",
    agency_id: Any = None,
) -> AuditEvent:
    """The unsaved event, with the request's id and address taken from the calling thread."""
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or str(target.pk)
    actor_pk = getattr(actor, "pk", None) if actor is not None else None
    if agency_id is None and actor is not None:
        agency_id = getattr(actor, "agency_id", None)
    return AuditEvent(
        occurred_at=timezone.now(),
        component=component,
        event_type=str(event_type),
        category=CATEGORY_OF[str(event_type)],
        actor_id=actor_pk,
        actor_name=_actor_name(actor),
        agency_id=agency_id,
        outcome=str(outcome),
        request_id=current_request_id(),
        client_ip=current_client_ip(),
        target_type=target_type,
        target_id=target_id,
        reason=reason[:500],
        recipients=recipients or [],
        changes=changes or {},
        details=details or {},
    )


def audit_record_failure(**kwargs: Any) -> AuditEvent:
    """Append a failure event. Call it outside the failing transaction so that it survives."""
    kwargs.setdefault("outcome", Outcome.FAILURE)
    with transaction.atomic():
        return audit_record(**kwargs)


def _actor_name(actor: Any) -> str:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return "anonymous" if actor is not None else "system"
    badge = getattr(actor, "badge_number", "")
    name = getattr(actor, "username", "")
    return f"{name} ({badge})" if badge else name
