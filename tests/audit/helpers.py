"""Helpers for the audit tests: build a chain fast, tamper with it behind the triggers' back."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import connection
from django.utils import timezone

from wellcheck.audit.canonical import GENESIS, canonical_bytes, chain_hash, row_values
from wellcheck.audit.canonical_v2 import canonical_bytes_v2
from wellcheck.audit.chain import chain_tail, event_hash
from wellcheck.audit.models import AuditEvent
from wellcheck.audit.triggers import triggers_bypassed

EVENT_TYPES = ("check.viewed", "person.viewed", "check.created", "export", "audit.read")


def build_chain(
    n: int, *, agency_id: uuid.UUID | None = None, batch: int = 5000, version: int = 2
) -> None:
    """Append ``n`` chained events with bulk inserts, in canonical ``version`` (``audit_record``
    writes version 2; version 1 is what events written before migration 0004 hold)."""
    seq, prev = chain_tail()
    start = timezone.now() - dt.timedelta(days=1)
    pending: list[AuditEvent] = []
    for i in range(n):
        seq += 1
        event = AuditEvent(
            seq=seq,
            occurred_at=start + dt.timedelta(microseconds=37 * i),
            component="web",
            event_type=EVENT_TYPES[i % len(EVENT_TYPES)],
            category="consultation",
            actor_id=(i % 17) + 1,
            actor_name=f"officer_{i % 17} (Zoë)",
            agency_id=agency_id,
            outcome="success",
            request_id=f"req-{i}",
            client_ip="127.0.0.1",
            target_type="checks.wellnesscheck",
            target_id=str(uuid.UUID(int=i)),
            reason="welfare follow-up" if i % 3 else "",
            recipients=["Crisis team"] if i % 11 == 0 else [],
            changes={"state": {"from": "draft", "to": "submitted"}} if i % 7 == 0 else {},
            details={"n": i, "é": "ok"} if i % 5 == 0 else {},
            canon_version=version,
            prev_hash=prev,
        )
        event.row_hash = event_hash(event)
        prev = event.row_hash
        pending.append(event)
        if len(pending) >= batch:
            AuditEvent.objects.bulk_create(pending)
            pending = []
    if pending:
        AuditEvent.objects.bulk_create(pending)


_FIELDS = (
    "seq",
    "occurred_at",
    "component",
    "event_type",
    "category",
    "actor_id",
    "actor_name",
    "agency_id",
    "outcome",
    "request_id",
    "client_ip",
    "target_type",
    "target_id",
    "reason",
    "recipients",
    "changes",
    "details",
)


def tamper(sql: str, params: list[object] | None = None) -> None:
    """Run ``sql`` with the append-only triggers out of the way (superuser / file owner)."""
    with triggers_bypassed(connection), connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def swap(i: int, j: int) -> None:
    with triggers_bypassed(connection), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET seq = -1 WHERE seq = %s", [i])
        cursor.execute("UPDATE audit_auditevent SET seq = %s WHERE seq = %s", [i, j])
        cursor.execute("UPDATE audit_auditevent SET seq = %s WHERE seq = -1", [j])


def rewrite_with_hash(seq: int, reason: str) -> None:
    """Change an event and give it a fresh, self-consistent hash (a careful forger)."""
    event = AuditEvent.objects.get(seq=seq)
    event.reason = reason
    new_hash = event_hash(event)
    tamper(
        "UPDATE audit_auditevent SET reason = %s, row_hash = %s WHERE seq = %s",
        [reason, new_hash, seq],
    )


__all__ = ["GENESIS", "build_chain", "rewrite_with_hash", "swap", "tamper"]


_COPY_COLUMNS = (*_FIELDS, "canon_version", "prev_hash", "row_hash")


def build_chain_fast(n: int, *, version: int = 2) -> None:
    """Append ``n`` chained events with COPY (PostgreSQL) or executemany (SQLite)."""
    import json

    seq, prev = chain_tail()
    start = timezone.now() - dt.timedelta(days=2)
    rows = []
    for i in range(n):
        seq += 1
        occurred = start + dt.timedelta(microseconds=11 * i)
        values = {
            "seq": seq,
            "occurred_at": occurred,
            "component": "web",
            "event_type": EVENT_TYPES[i % len(EVENT_TYPES)],
            "category": "consultation",
            "actor_id": (i % 17) + 1,
            "actor_name": f"officer_{i % 17}",
            "agency_id": None,
            "outcome": "success",
            "request_id": f"req-{i}",
            "client_ip": "10.0.0.1",
            "target_type": "checks.wellnesscheck",
            "target_id": str(uuid.UUID(int=i)),
            "reason": "welfare follow-up" if i % 3 else "",
            "recipients": [],
            "changes": {"state": {"from": "draft", "to": "submitted"}} if i % 7 == 0 else {},
            "details": {"n": i} if i % 5 == 0 else {},
        }
        if version == 2:
            data = canonical_bytes_v2([values[name] for name in _FIELDS])
        else:
            data = canonical_bytes(row_values(values))
        row_hash = chain_hash(prev, data)
        stored = dict(values)
        for name in ("recipients", "changes", "details"):
            stored[name] = json.dumps(values[name])
        if connection.vendor != "postgresql":
            stored["occurred_at"] = occurred.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        rows.append([*(stored[name] for name in _FIELDS), version, prev, row_hash])
        prev = row_hash
    columns = ", ".join(_COPY_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            with raw.copy(f"COPY audit_auditevent ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(_COPY_COLUMNS))
            cursor.executemany(
                f"INSERT INTO audit_auditevent ({columns}) VALUES ({marks})",  # noqa: S608
                rows,
            )
