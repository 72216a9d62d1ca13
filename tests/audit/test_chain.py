"""The audit chain: appends, the append-only triggers, and verification naming the bad event."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.audit.helpers import build_chain, rewrite_with_hash, swap, tamper
from wellcheck.audit import verify as verify_module
from wellcheck.audit.canonical import GENESIS
from wellcheck.audit.checkpoints import checkpoint_create
from wellcheck.audit.events import EventType
from wellcheck.audit.models import AuditCheckpoint, AuditEvent
from wellcheck.audit.services import audit_record, audit_record_failure
from wellcheck.audit.verify import verify_chain
from wellcheck.testing.audit_asserts import assert_audited, assert_chain_intact, audit_mark
from wellcheck.testing.personas import World


def test_events_are_chained_in_order_without_gaps(world: World) -> None:
    mark = audit_mark()
    first = audit_record(actor=world.officer_a, event_type=EventType.CHECK_LISTED)
    second = audit_record(
        actor=world.auditor,
        event_type=EventType.AUDIT_READ,
        details={"ratio": 0.25, "name": "Cafe\u0301"},
    )
    assert (first.seq, second.seq) == (mark + 1, mark + 2)
    assert second.prev_hash == first.row_hash
    assert mark or first.prev_hash == GENESIS
    stored = AuditEvent.objects.get(pk=second.pk)
    # stored exactly as hashed: floats as text, strings in NFC
    assert stored.details == {"name": "Caf\u00e9", "ratio": "0.25"}
    assert_audited(EventType.AUDIT_READ, actor=world.auditor, after=mark, count=1)
    assert_chain_intact()


def test_failure_event_survives_the_rolled_back_request(world: World) -> None:
    mark = audit_mark()
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=world.officer_a, event_type=EventType.CHECK_UPDATED)
        raise RuntimeError("the change failed")
    audit_record_failure(actor=world.officer_a, event_type=EventType.ACCESS_DENIED)
    assert list(AuditEvent.objects.filter(seq__gt=mark).values_list("seq", "outcome")) == [
        (mark + 1, "failure")
    ]
    assert_chain_intact()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET reason = 'edited' WHERE seq = 1",
        "UPDATE audit_auditevent SET row_hash = row_hash",
        "DELETE FROM audit_auditevent WHERE seq = 1",
        "DELETE FROM audit_auditevent",
        "UPDATE audit_auditcheckpoint SET tree_size = 1",
        "DELETE FROM audit_auditcheckpoint",
    ],
)
def test_triggers_refuse_update_and_delete(db: None, sql: str) -> None:
    build_chain(3)
    checkpoint_create()
    before = list(AuditEvent.objects.values_list("seq", "reason", "row_hash"))
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql)
    assert list(AuditEvent.objects.values_list("seq", "reason", "row_hash")) == before
    assert AuditCheckpoint.objects.count() == 1


def test_truncate_is_refused_on_postgresql(db: None) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    build_chain(2)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.count() == 2


def test_app_code_cannot_update_through_the_orm(world: World) -> None:
    event = audit_record(actor=world.officer_a, event_type=EventType.CHECK_LISTED)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(reason="hidden")
    with pytest.raises(DatabaseError), transaction.atomic():
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


# --- verification names the event that was tampered with ------------------------------------

TOTAL = 15  # events in the chain
SIGNED = 12  # a signed checkpoint covers events 1..12
OLD = 4  # events 1..4 are in canonical version 1, the rest in version 2

edits = st.one_of(
    st.tuples(
        st.just("change"),
        st.integers(1, TOTAL),
        st.sampled_from(["reason", "actor_name", "event_type", "target_id", "occurred_at"]),
    ),
    st.tuples(st.just("details"), st.integers(1, TOTAL), st.integers(0, 10**6)),
    st.tuples(st.just("delete"), st.integers(1, TOTAL - 1), st.just(0)),
    st.tuples(st.just("swap"), st.integers(1, TOTAL), st.integers(1, TOTAL)).filter(
        lambda e: e[1] != e[2]
    ),
    st.tuples(st.just("rewrite"), st.integers(1, TOTAL - 1), st.just(0)),
    st.tuples(st.just("cut"), st.integers(0, SIGNED - 1), st.just(0)),
    st.tuples(st.just("version"), st.integers(1, TOTAL), st.sampled_from(["flip", "unknown"])),
)


def _no_row_by_row_walk(*args: object, **kwargs: object) -> int:
    raise AssertionError("PostgreSQL fell back to the row-by-row walk")


def _apply(edit: tuple[str, int, object]) -> int:
    """Apply one edit; returns the seq that verification must name."""
    kind, seq, arg = edit
    if kind == "change":
        if arg == "occurred_at":
            tamper(
                "UPDATE audit_auditevent SET occurred_at = occurred_at + INTERVAL '1 second' "
                "WHERE seq = %s"
                if connection.vendor == "postgresql"
                else "UPDATE audit_auditevent SET occurred_at = '2001-01-01 00:00:00' "
                "WHERE seq = %s",
                [seq],
            )
        else:
            column = str(arg)
            assert column in {"reason", "actor_name", "event_type", "target_id"}
            sql = f"UPDATE audit_auditevent SET {column} = 'tampered' WHERE seq = %s"  # noqa: S608
            tamper(sql, [seq])
        return seq
    if kind == "details":
        tamper("UPDATE audit_auditevent SET details = %s WHERE seq = %s", [f'{{"n": {arg}}}', seq])
        return seq
    if kind == "delete":
        tamper("DELETE FROM audit_auditevent WHERE seq = %s", [seq])
        return seq
    if kind == "swap":
        swap(seq, int(arg))  # type: ignore[call-overload]
        return min(seq, int(arg))  # type: ignore[call-overload]
    if kind == "rewrite":
        rewrite_with_hash(seq, "a forged reason")
        return seq
    if kind == "version":  # 1 <-> 2, or a version that does not exist
        new = "3 - canon_version" if arg == "flip" else "9"
        tamper(f"UPDATE audit_auditevent SET canon_version = {new} WHERE seq = %s", [seq])  # noqa: S608
        return seq
    assert kind == "cut"
    tamper("DELETE FROM audit_auditevent WHERE seq > %s", [seq])
    return seq + 1


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(edit=edits)
def test_any_single_edit_is_detected_and_the_right_event_named(
    db: None, edit: tuple[str, int, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    if connection.vendor == "postgresql":  # the set-based verifier must name the same event
        monkeypatch.setattr(verify_module, "_walk", _no_row_by_row_walk)
    if not AuditEvent.objects.exists():
        build_chain(OLD, version=1)  # written before canonical version 2
        build_chain(SIGNED - OLD)
        assert checkpoint_create() is not None
        build_chain(TOTAL - SIGNED)
    assert verify_chain().ok
    with transaction.atomic():
        named = _apply(edit)
        report = verify_chain()
        transaction.set_rollback(True)
    assert report.problem is not None, f"{edit} went unnoticed"
    assert report.problem.seq == named, (edit, report.problem)
    assert verify_chain().ok  # rolled back: intact again


def test_cut_tail_is_found_from_an_exported_checkpoint_even_if_db_checkpoints_go(
    db: None,
) -> None:
    build_chain(8)
    point = checkpoint_create()
    assert point is not None
    exported = [point.note]
    tamper("DELETE FROM audit_auditcheckpoint")
    tamper("DELETE FROM audit_auditevent WHERE seq > 5")
    assert verify_chain().ok  # the database alone no longer shows it
    report = verify_chain(exported_notes=exported)
    assert report.problem is not None and report.problem.seq == 6
    assert report.problem.kind == "truncated"


def test_rewritten_chain_fails_the_signed_checkpoint(db: None) -> None:
    build_chain(4)
    checkpoint_create()
    # a forger rebuilds the whole chain with new content: every link is self-consistent
    tamper("DELETE FROM audit_auditevent")
    build_chain(4)
    report = verify_chain()
    assert report.problem is not None
    assert report.problem.kind == "checkpoint" and report.problem.seq == 4


def test_forged_checkpoint_signature_is_refused(db: None) -> None:
    build_chain(3)
    point = checkpoint_create()
    assert point is not None
    forged = point.note.replace("\n3\n", "\n2\n", 1)
    report = verify_chain(exported_notes=[forged])
    assert report.problem is not None and report.problem.kind == "signature"


def test_since_checkpoint_checks_only_the_newest_part(db: None) -> None:
    build_chain(10)
    checkpoint_create()
    build_chain(5)
    tamper("UPDATE audit_auditevent SET reason = 'x' WHERE seq = 3")  # before the checkpoint
    full, recent = verify_chain(), verify_chain(since_checkpoint=True)
    assert full.problem is not None and full.problem.seq == 3
    assert recent.ok and recent.events == 5 and recent.first_seq == 11
    tamper("UPDATE audit_auditevent SET reason = 'x' WHERE seq = 12")
    recent = verify_chain(since_checkpoint=True)
    assert recent.problem is not None and recent.problem.seq == 12


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(max_examples=200, deadline=None)
@given(
    scalars=st.lists(st.none() | st.integers() | st.text(max_size=12), min_size=14, max_size=14),
    nested=st.lists(json_values, min_size=3, max_size=3),
)
def test_fast_canonical_form_equals_the_reference(
    scalars: list[object], nested: list[object]
) -> None:
    import json

    from wellcheck.audit.canonical import canonical_bytes, canonical_bytes_from_db

    as_text = [json.dumps(v) for v in nested]  # as a database hands JSON back
    assert canonical_bytes_from_db([*scalars, *as_text]) == canonical_bytes([*scalars, *nested])
