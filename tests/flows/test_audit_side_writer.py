"""A read's audit event overlaps the read's remaining queries (PostgreSQL, autocommit), and the
read still returns only after the event is committed; inside a transaction it stays inline."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from wellcheck.audit.events import EventType
from wellcheck.audit.services import audit_read_begin
from wellcheck.checks.selectors import check_get_identifying
from wellcheck.crypto.testing import record_check
from wellcheck.testing.audit_asserts import assert_audited, assert_chain_intact, audit_mark
from wellcheck.testing.personas import make_world


@pytest.mark.django_db(transaction=True)
def test_read_event_is_committed_on_the_side_before_the_read_returns(settings: object) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the side writer is PostgreSQL-only (SQLite has one writer)")
    world = make_world(slug="sidepd")
    check, _, _ = record_check(world)
    mark = audit_mark()
    identity = check_get_identifying(actor=world.officer_a, check_id=check.pk, reason="call back")
    assert identity is not None and identity.detail.person is not None
    # The event exists and is committed: a brand-new connection (another thread) sees it.
    seen: list[int] = []

    def look() -> None:
        from django.db import connections

        from wellcheck.audit.models import AuditEvent

        try:
            seen.append(
                AuditEvent.objects.filter(
                    event_type=EventType.CHECK_VIEWED, target_id=str(check.pk), seq__gt=mark
                ).count()
            )
        finally:
            connections.close_all()

    thread = threading.Thread(target=look)
    thread.start()
    thread.join()
    assert seen == [1]
    event = assert_audited(
        EventType.CHECK_VIEWED, target=check, actor=world.officer_a, after=mark, count=1
    )
    assert event.reason == "call back" and event.component == "web"
    assert_chain_intact()


@pytest.mark.django_db(transaction=True)
def test_pending_event_overlaps_only_outside_a_transaction() -> None:
    world = make_world(slug="side2pd")
    check, _, _ = record_check(world)
    pending = audit_read_begin(
        actor=world.officer_a, event_type=EventType.CHECK_VIEWED, target=check
    )
    event = pending.wait()
    assert event.seq and event.row_hash
    assert pending.overlapped == (connection.vendor == "postgresql")
    with transaction.atomic():
        inside = audit_read_begin(
            actor=world.officer_a, event_type=EventType.CHECK_VIEWED, target=check
        )
        assert not inside.overlapped  # joins the caller's transaction, as audit_record does
        assert inside.wait().seq == event.seq + 1
    assert_chain_intact()


@pytest.mark.django_db(transaction=True)
def test_a_failed_side_append_fails_the_read(settings: object) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the side writer is PostgreSQL-only")
    world = make_world(slug="side3pd")
    check, _, _ = record_check(world)
    settings.WELLCHECK_AUDIT_SIDE_WRITER = True  # type: ignore[attr-defined]
    import wellcheck.audit.side as side

    real = side.append_event

    def broken(event: object) -> object:
        raise RuntimeError("audit store unavailable")

    side.append_event = broken  # type: ignore[assignment]
    try:
        with pytest.raises(RuntimeError, match="audit store unavailable"):
            check_get_identifying(actor=world.officer_a, check_id=check.pk, reason="x")
    finally:
        side.append_event = real
