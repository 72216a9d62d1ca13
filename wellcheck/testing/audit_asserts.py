"""Test helpers: assert that a write or a sensitive read left its audit event.

Use in any test::

    from wellcheck.testing.audit_asserts import assert_audited, audit_mark

    mark = audit_mark()
    check_submit(actor=world.officer_a, check=check)
    assert_audited("check.submitted", target=check, actor=world.officer_a, after=mark)

``after`` (a mark taken before the action) makes the assertion about *this* action, not an event
an earlier step of the test wrote. ``assert_chain_intact()`` runs the full verifier.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from wellcheck.audit.models import AuditEvent


def audit_mark() -> int:
    """The current tail ``seq`` (0 when the trail is empty)."""
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    return int(last or 0)


def _matching(
    event_type: str,
    *,
    target: models.Model | None,
    target_type: str,
    target_id: str,
    actor: Any,
    outcome: str | None,
    after: int,
) -> models.QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(event_type=str(event_type), seq__gt=after)
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or str(target.pk)
    if target_type:
        events = events.filter(target_type=target_type)
    if target_id:
        events = events.filter(target_id=str(target_id))
    if actor is not None:
        events = events.filter(actor_id=actor.pk)
    if outcome is not None:
        events = events.filter(outcome=str(outcome))
    return events


def assert_audited(
    event_type: str,
    *,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str = "",
    actor: Any = None,
    outcome: str | None = None,
    after: int = 0,
    count: int | None = None,
) -> AuditEvent:
    """Exactly ``count`` (default: at least one) matching events exist; returns the newest."""
    events = _matching(
        event_type,
        target=target,
        target_type=target_type,
        target_id=target_id,
        actor=actor,
        outcome=outcome,
        after=after,
    )
    found = events.count()
    if count is None and found == 0 or count is not None and found != count:
        recent = list(
            AuditEvent.objects.filter(seq__gt=after)
            .order_by("-seq")
            .values_list("seq", "event_type", "target_type", "target_id", "actor_id")[:10]
        )
        wanted = "at least one" if count is None else str(count)
        raise AssertionError(
            f"expected {wanted} {event_type!r} event(s) (target={target_type or target!r} "
            f"{target_id}, actor={getattr(actor, 'pk', None)}, outcome={outcome}) after seq "
            f"{after}; found {found}. Newest events: {recent}"
        )
    newest = events.order_by("-seq").first()
    assert newest is not None
    return newest


def assert_not_audited(event_type: str, *, after: int = 0, **filters: Any) -> None:
    """No matching event exists after ``after``."""
    events = _matching(
        event_type,
        target=filters.get("target"),
        target_type=filters.get("target_type", ""),
        target_id=filters.get("target_id", ""),
        actor=filters.get("actor"),
        outcome=filters.get("outcome"),
        after=after,
    )
    found = list(events.values_list("seq", flat=True)[:10])
    if found:
        raise AssertionError(f"expected no {event_type!r} event after seq {after}; found {found}")


def assert_chain_intact() -> None:
    """The whole audit chain and its checkpoints verify."""
    from wellcheck.audit.verify import verify_chain

    report = verify_chain()
    if not report.ok:
        assert report.problem is not None
        raise AssertionError(f"audit chain broken at event {report.problem.seq}: {report.problem}")
