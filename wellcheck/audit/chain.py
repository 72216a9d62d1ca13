"""Appending to the hash chain: one writer at a time, no fork, no gap.

PostgreSQL: a transaction-scoped advisory lock (:data:`APPEND_LOCK`), then the tail is read by
``seq``; the lock is held until the caller's transaction commits or rolls back, so the next writer
sees the committed tail. The unique ``seq`` is a second line of defence: two rows can never claim
the same place. SQLite: ``BEGIN IMMEDIATE`` (settings) already serialises writers.

Deadlock note: a transaction that writes an audit event holds the lock to its end; if it then
waits for a row lock held by another transaction that is itself waiting to audit, PostgreSQL's
deadlock detector aborts one of them. Services lock their rows first and audit last.
"""

from __future__ import annotations

import json
import logging
import unicodedata
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection, transaction

from wellcheck.audit.canonical import (
    FIELDS_V1,
    GENESIS,
    VERSION,
    canonical_bytes,
    chain_hash,
    clean_json,
    row_values,
)
from wellcheck.audit.canonical_v2 import VERSION_2, canonical_bytes_v2
from wellcheck.audit.events import Category
from wellcheck.audit.models import AuditArchive, AuditEvent

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock key: "WCAUDIT" in ASCII, fits a signed 64-bit integer.
APPEND_LOCK = 0x57434155444954

_TEXT_FIELDS = (
    "component",
    "event_type",
    "category",
    "actor_name",
    "outcome",
    "request_id",
    "client_ip",
    "target_type",
    "target_id",
    "reason",
)
_MAX = {"actor_name": 200, "reason": 500, "request_id": 64, "client_ip": 64, "target_id": 64}


def lock_chain() -> None:
    """Take the append lock for the rest of the current transaction (no-op on SQLite)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [APPEND_LOCK])


def chain_tail(*, lock: bool = False) -> tuple[int, str]:
    """``(seq, row_hash)`` of the newest event, or of the newest archive when none is live.

    ``lock=True`` first takes the append lock; on PostgreSQL both happen in one round trip
    (``wellcheck_audit_lock_tail()``, migration 0003).
    """
    with connection.cursor() as cursor:
        if lock and connection.vendor == "postgresql":
            cursor.execute("SELECT tail_seq, tail_hash FROM wellcheck_audit_lock_tail()")
        else:
            cursor.execute("SELECT seq, row_hash FROM audit_auditevent ORDER BY seq DESC LIMIT 1")
        row = cursor.fetchone()
    if row is not None and row[0] is not None:
        return int(row[0]), str(row[1])
    archive = AuditArchive.objects.order_by("-last_seq").first()
    if archive is not None:
        return archive.last_seq, archive.last_hash
    return 0, GENESIS


def event_hash(event: AuditEvent) -> str:
    """The chained hash of an (unsaved or saved) event from its own column values."""
    values = [getattr(event, name) for name in FIELDS_V1]
    if event.canon_version == VERSION_2:
        return chain_hash(event.prev_hash, canonical_bytes_v2(values))
    if event.canon_version == VERSION:
        named = dict(zip(FIELDS_V1, values, strict=True))
        return chain_hash(event.prev_hash, canonical_bytes(row_values(named)))
    raise ValueError(f"unknown canonical version {event.canon_version}")


def _clean(event: AuditEvent) -> None:
    for name in _TEXT_FIELDS:
        value = unicodedata.normalize("NFC", str(getattr(event, name) or ""))
        setattr(event, name, value[: _MAX.get(name, 60)] if name in _MAX else value)
    event.recipients = clean_json(list(event.recipients or []))
    event.changes = clean_json(dict(event.changes or {}))
    event.details = clean_json(dict(event.details or {}))


_APPEND_SQL = (
    "SELECT out_id, out_seq, out_prev, out_hash FROM wellcheck_audit_append("
    "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s::jsonb, %s)"
)
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def append_event(event: AuditEvent) -> AuditEvent:
    """Give ``event`` its place in the chain and insert it. Joins the caller's transaction.

    PostgreSQL: one statement (``wellcheck_audit_append``, migration 0004) takes the append lock,
    reads the tail, hashes the event (canonical version 2) and inserts it. Outside a transaction
    that statement is its own transaction: one round trip, commit included. SQLite: hashed here.
    """
    _clean(event)
    event.canon_version = VERSION_2
    if connection.vendor == "postgresql":
        _append_postgresql(event)
    else:
        with transaction.atomic(savepoint=False):
            seq, prev = chain_tail(lock=True)
            event.seq = seq + 1
            event.prev_hash = prev
            event.row_hash = event_hash(event)
            event.save(force_insert=True)
    every = int(getattr(settings, "WELLCHECK_AUDIT_CHECKPOINT_EVERY", 0) or 0)
    if every and event.seq % every == 0:
        transaction.on_commit(_enqueue_checkpoint)
    return event


def _append_postgresql(event: AuditEvent) -> None:
    relaxed = not connection.in_atomic_block and _async_commit_allowed(event)
    params: list[Any] = [
        event.occurred_at,
        event.component,
        event.event_type,
        event.category,
        event.actor_id,
        event.actor_name,
        event.agency_id,
        event.outcome,
        event.request_id,
        event.client_ip,
        event.target_type,
        event.target_id,
        event.reason,
        _dumps(event.recipients),
        _dumps(event.changes),
        _dumps(event.details),
        relaxed,
    ]
    event.id, event.seq, event.prev_hash, event.row_hash = execute_append(params)
    event._state.adding = False
    event._state.db = connection.alias


def execute_append(params: list[Any]) -> tuple[int, int, str, str]:
    """Run ``wellcheck_audit_append`` with ``params``; returns (id, seq, prev_hash, row_hash).

    No savepoint and no transaction of our own: inside the caller's transaction the event commits
    or rolls back with it; outside, the statement is its own (autocommit) transaction, commit
    included, in one round trip. It goes straight to psycopg with server-side parameters (the
    per-read cost of the audit is what matters here: Django's client-side quoting of 17 values
    cost more than the database's work), inside Django's error wrapper, so errors are Django's;
    Django's query log does not list it.
    """
    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(_APPEND_SQL, params)
        row = cursor.fetchone()
    if row is None:  # pragma: no cover - the function always returns one row
        raise RuntimeError("wellcheck_audit_append returned nothing")
    return int(row[0]), int(row[1]), str(row[2]), str(row[3])


def _async_commit_allowed(event: AuditEvent) -> bool:
    """Opt-in (``WELLCHECK_AUDIT_ASYNC_READ_COMMIT``): a read event that is its own transaction
    commits without waiting for the WAL flush (PostgreSQL ``synchronous_commit = off``).

    Only consultation events written outside any transaction qualify, so no other data shares the
    relaxed commit. After a database crash the read events of the last ~0.6 s may be missing; the
    chain stays a valid prefix, and checkpoints (committed synchronously, which flushes all earlier
    WAL) never cover a lost event. Off by default: see docs/adr/0004-audit-chain.md.
    """
    return (
        connection.vendor == "postgresql"
        and bool(getattr(settings, "WELLCHECK_AUDIT_ASYNC_READ_COMMIT", False))
        and event.category == Category.CONSULTATION
    )


def _enqueue_checkpoint() -> None:
    try:
        from wellcheck.audit.tasks import audit_checkpoint_task

        audit_checkpoint_task.enqueue()
    except Exception:  # a missed checkpoint is caught up by the next one; never fail the write
        logger.exception("could not enqueue an audit checkpoint")
