"""Canonical format version 2: PostgreSQL and Python build the same bytes; mixed chains verify."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from hashlib import sha256
from typing import Any

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.audit.helpers import build_chain, tamper
from wellcheck.audit import verify as verify_module
from wellcheck.audit.canonical import FIELDS_V1
from wellcheck.audit.canonical_v2 import canonical_bytes_v2, jsonb_text, time_hex, time_text
from wellcheck.audit.checkpoints import checkpoint_create
from wellcheck.audit.events import EventType
from wellcheck.audit.services import audit_record
from wellcheck.audit.verify import iter_rows, verify_chain

# PostgreSQL text cannot hold NUL; lone surrogates are not UTF-8.
chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
texts = st.text(chars, max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=8,
)
times = st.datetimes(
    min_value=dt.datetime(1, 1, 2),  # noqa: DTZ001 - bounds; the values get UTC
    max_value=dt.datetime(9999, 12, 30),  # noqa: DTZ001
    timezones=st.just(dt.UTC),
)
events = st.fixed_dictionaries(
    {
        "seq": st.integers(1, 2**62),
        "occurred_at": times | st.none(),
        "component": texts,
        "event_type": texts,
        "category": texts,
        "actor_id": st.none() | st.integers(-(2**63), 2**63 - 1),
        "actor_name": texts,
        "agency_id": st.none() | st.uuids(),
        "outcome": texts,
        "request_id": texts,
        "client_ip": texts,
        "target_type": texts,
        "target_id": texts,
        "reason": st.text(chars, max_size=40) | st.none(),
        # the JSON columns hold a list and two objects (``chain._clean``)
        "recipients": st.lists(json_values, max_size=3),
        "changes": st.dictionaries(texts, json_values, max_size=3),
        "details": st.dictionaries(texts, json_values, max_size=4),
    }
)

SQL_CANONICAL = (
    "SELECT wellcheck_audit_canonical_v2(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
    "%s, %s::jsonb, %s::jsonb, %s::jsonb)"
)


def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the SQL canonical function exists on PostgreSQL only")


def _sql_bytes(event: dict[str, Any]) -> bytes:
    params = [event[name] for name in FIELDS_V1]
    params[14:17] = [json.dumps(v) for v in params[14:17]]  # as Django sends JSON (ASCII)
    with connection.cursor() as cursor:
        cursor.execute(SQL_CANONICAL, params)
        return bytes(cursor.fetchone()[0])


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(event=events)
def test_sql_and_python_build_identical_bytes(db: None, event: dict[str, Any]) -> None:
    _postgresql_only()
    python = canonical_bytes_v2([event[name] for name in FIELDS_V1])
    assert _sql_bytes(event) == python


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(value=json_values)
def test_jsonb_text_is_what_postgresql_prints(db: None, value: object) -> None:
    _postgresql_only()
    with connection.cursor() as cursor:
        cursor.execute("SELECT (%s::jsonb)::text", [json.dumps(value)])
        assert cursor.fetchone()[0] == jsonb_text(value)


def test_known_bytes() -> None:
    when = dt.datetime(7, 3, 4, 5, 6, 7, 8, tzinfo=dt.UTC)
    agency = uuid.UUID(int=5)
    values = [3, when, "web", 'a"b', "c", None, "Zoë\n\x01", agency, "success", "", "", "", "",
              None, ["x"], {"bb": 1, "a": [True, None]}, {}]  # fmt: skip
    assert (
        canonical_bytes_v2(values)
        == (
            '2;3;ff20940eacd66dc8;3;web;3;a"b;1;c;~;6;Zoë\n\x01;'
            "00000000-0000-0000-0000-000000000005;7;success;0;;0;;0;;0;;-1;"
            '["x"];{"a": [true, null], "bb": 1};{}'
        ).encode()
    )
    assert time_hex("2026-01-01T00:00:00.000000Z") == "0002ea470ae86000"  # what PostgreSQL sends
    assert time_text("2026-01-02 03:04:05") == "2026-01-02T03:04:05.000000Z"


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    reason=st.text(chars, max_size=60),
    details=st.dictionaries(texts, json_values, max_size=4),
    recipients=st.lists(texts, max_size=3),
)
def test_a_written_event_rehashes_the_same_in_python_and_in_sql(
    db: None, reason: str, details: dict[str, Any], recipients: list[str]
) -> None:
    with transaction.atomic():
        event = audit_record(
            actor=None,
            event_type=EventType.CHECK_VIEWED,
            reason=reason,
            details=details,
            recipients=recipients,
            agency_id=uuid.uuid4(),
        )
        rows = [values for values in iter_rows(event.seq) if values[0] == event.seq]
        assert rows, "the event was not stored"
        values = rows[0]
        # Python, from the row as the database hands it back
        data = canonical_bytes_v2(values[:17])
        assert sha256(bytes.fromhex(values[18]) + data).hexdigest() == event.row_hash
        assert verify_chain(since_checkpoint=True).ok
        transaction.set_rollback(True)


def test_postgresql_verifies_in_sql_not_row_by_row(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _postgresql_only()
    build_chain(30)
    checkpoint_create()
    build_chain(5)

    def no_python_walk(*args: object, **kwargs: object) -> int:
        raise AssertionError("the row-by-row walk ran")

    monkeypatch.setattr(verify_module, "_walk", no_python_walk)
    report = verify_chain()
    assert report.ok and report.events == 35 and report.checkpoints == 1
    tamper("UPDATE audit_auditevent SET reason = 'x' WHERE seq = 17")
    report = verify_chain()
    assert report.problem is not None and (report.problem.seq, report.problem.kind) == (
        17,
        "altered",
    )


def test_mixed_chain_of_version_1_and_version_2_events(db: None) -> None:
    build_chain(6, version=1)
    build_chain(4)
    checkpoint_create()
    audit_record(actor=None, event_type=EventType.CHECK_LISTED)
    assert verify_chain().ok
    for seq, column, value in [(3, "reason", "edited"), (8, "actor_name", "edited")]:
        with transaction.atomic():
            tamper(f"UPDATE audit_auditevent SET {column} = %s WHERE seq = %s", [value, seq])  # noqa: S608
            report = verify_chain()
            transaction.set_rollback(True)
        assert report.problem is not None and report.problem.seq == seq, report.problem
        assert report.problem.kind == "altered"
    # relabelling an event's version changes its bytes (the version is hashed)
    for seq, version, kind in [(8, 1, "altered"), (3, 2, "altered"), (5, 7, "version")]:
        with transaction.atomic():
            tamper("UPDATE audit_auditevent SET canon_version = %s WHERE seq = %s", [version, seq])
            report = verify_chain()
            transaction.set_rollback(True)
        assert report.problem is not None, (seq, version)
        assert (report.problem.seq, report.problem.kind) == (seq, kind)
    assert verify_chain().ok


def test_a_hash_that_is_not_hex_is_named(db: None) -> None:
    build_chain(5)
    tamper("UPDATE audit_auditevent SET prev_hash = 'zz' WHERE seq = 3")
    report = verify_chain()
    assert report.problem is not None and report.problem.seq == 3
    assert report.problem.kind == "altered"


def test_checkpoints_sign_the_chain_head_and_old_ones_are_checked_by_merkle_root(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wellcheck.audit import checkpoints
    from wellcheck.audit.signing import Checkpoint

    build_chain(6, version=1)
    # a checkpoint as signed before migration 0004: size and Merkle root, no head line
    monkeypatch.setattr(checkpoints, "Checkpoint", lambda **kw: Checkpoint(**{**kw, "head": None}))
    old = checkpoints.checkpoint_create()
    monkeypatch.undo()
    build_chain(4)
    new = checkpoints.checkpoint_create()
    assert old is not None and new is not None
    assert "wellcheck-head" not in old.note
    assert f"wellcheck-head {new.last_row_hash}\n" in new.note
    assert verify_chain().ok
    # a forger rebuilds the chain with new, self-consistent content
    for signed in (6, 10):
        with transaction.atomic():
            tamper("DELETE FROM audit_auditevent WHERE seq > %s", [signed - 3])
            build_chain(3)
            report = verify_chain()
            transaction.set_rollback(True)
        assert report.problem is not None, signed
        assert (report.problem.seq, report.problem.kind) == (signed, "checkpoint")
