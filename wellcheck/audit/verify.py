"""Verifying the audit chain and its signed checkpoints; names the first event that fails.

For each event, in ``seq`` order:

1. ``seq`` follows the previous one: otherwise that event is **missing** (deleted);
2. its own hash matches its content: otherwise it was **altered** (or moved: ``seq`` is hashed);
3. its ``prev_hash`` equals the previous event's hash: otherwise the previous event was
   **rewritten** with a fresh hash (its successor still remembers the old one);
4. at each checkpointed size, the Merkle root over all hashes so far equals the signed root:
   otherwise events up to there were rewritten consistently (**checkpoint mismatch**).

After the last event, any checkpoint larger than the chain means the tail was **cut**. Every
checkpoint's signature is checked with the log's public key, from the key file or given as a
verifier key; checkpoints exported earlier can be supplied too (a DB superuser can delete rows
from the checkpoint table, not from a copy kept elsewhere).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

import psycopg
from django.db import DatabaseError, connection

from wellcheck.audit import verify_pg
from wellcheck.audit.canonical import GENESIS, VERSION, canonical_bytes_from_db
from wellcheck.audit.canonical_v2 import VERSION_2, canonical_bytes_v2
from wellcheck.audit.merkle import Frontier
from wellcheck.audit.models import AuditArchive, AuditCheckpoint
from wellcheck.audit.signing import (
    CheckpointError,
    key_file,
    load_private_key,
    open_note,
    origin,
    parse_verifier_key,
)

BATCH = 20_000

_COLUMNS = (
    "seq, {time}, component, event_type, category, actor_id, actor_name, {agency}, outcome, "
    "request_id, client_ip, target_type, target_id, reason, recipients, changes, details, "
    "canon_version, prev_hash, row_hash"
)


@dataclass
class Problem:
    seq: int
    kind: str  # missing | altered | rewritten | checkpoint | truncated | signature | version
    message: str


@dataclass
class Report:
    problem: Problem | None = None
    events: int = 0
    first_seq: int = 0
    last_seq: int = 0
    checkpoints: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None


class _Stop(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


def select_sql(vendor: str) -> str:
    """The query over events from a given ``seq``, times as text in the canonical form."""
    if vendor == "postgresql":
        cols = _COLUMNS.format(
            time="to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
            agency="agency_id::text",
        )
    else:
        cols = _COLUMNS.format(time="CAST(occurred_at AS TEXT)", agency="agency_id")
    return f"SELECT {cols} FROM audit_auditevent WHERE seq >= %s ORDER BY seq LIMIT %s"  # noqa: S608


def _sqlite_time(text: str) -> str:
    """SQLite stores ``YYYY-MM-DD HH:MM:SS[.ffffff]`` (UTC); give the canonical form."""
    if len(text) == 19:
        text += ".000000"
    return text.replace(" ", "T", 1) + "Z"


_agency_text: dict[str, str] = {}


def _sqlite_agency(value: str | None) -> str | None:
    if value is None:
        return None
    cached = _agency_text.get(value)
    if cached is None:
        cached = _agency_text[value] = str(uuid.UUID(value))
    return cached


def iter_rows(start_seq: int, *, batch: int = BATCH) -> Iterable[list[Any]]:
    """Event rows from ``start_seq`` on, in batches (keyset pagination on ``seq``)."""
    vendor = connection.vendor
    sql = select_sql(vendor)
    seq = start_seq
    with connection.cursor() as cursor:
        while True:
            cursor.execute(sql, [seq, batch])
            rows = cursor.fetchall()
            for row in rows:
                values = list(row)
                if vendor != "postgresql":
                    values[1] = _sqlite_time(values[1])
                    values[7] = _sqlite_agency(values[7])
                yield values
            if len(rows) < batch:
                return
            seq = rows[-1][0] + 1


def _public_key(verifier: str | None) -> tuple[str, object] | None:
    if verifier:
        return parse_verifier_key(verifier)
    if key_file().exists():
        return origin(), load_private_key().public_key()
    return None


def _collect_checkpoints(
    report: Report, start_size: int, verifier: str | None, external: Iterable[str]
) -> dict[int, tuple[bytes, str, bytes | None]]:
    """Signed roots by tree size; raises _Stop on a bad signature or an inconsistent row."""
    key = _public_key(verifier)
    rows = list(AuditCheckpoint.objects.order_by("tree_size"))
    notes: list[tuple[str, str, AuditCheckpoint | None]] = [
        (row.note, f"checkpoint {row.tree_size} (database)", row) for row in rows
    ]
    notes += [(note, "exported checkpoint", None) for note in external]
    if notes and key is None:
        report.notes.append("no signing key file and no --public-key: signatures not checked")
    wanted: dict[int, tuple[bytes, str, bytes | None]] = {}
    for note, label, row in notes:
        head: bytes | None = None
        if key is not None:
            name, public = key
            try:
                point = open_note(note, name, public)  # type: ignore[arg-type]
            except CheckpointError as exc:
                size = row.tree_size if row is not None else 0
                raise _Stop(Problem(size, "signature", f"{label}: {exc}")) from exc
            size, root, head = point.tree_size, point.root, point.head
            if row is not None and (size != row.tree_size or root.hex() != row.root_hash):
                raise _Stop(Problem(row.tree_size, "signature", f"{label}: row differs from note"))
        elif row is not None:
            size, root = row.tree_size, bytes.fromhex(row.root_hash)
        else:
            continue
        if size < start_size:
            continue
        known = wanted.get(size)
        if known is not None and known[0] != root:
            raise _Stop(Problem(size, "checkpoint", f"two signed roots for tree size {size}"))
        if known is not None and known[2] is not None:
            if head is not None and head != known[2]:
                raise _Stop(Problem(size, "checkpoint", f"two signed heads for tree size {size}"))
            head = known[2]
        wanted[size] = (root, label, head)
    return wanted


def _start(since_checkpoint: bool) -> tuple[int, str, Frontier]:
    """(first seq to read, hash expected as its prev_hash, frontier of everything before)."""
    archive = AuditArchive.objects.order_by("-last_seq").first()
    start, prev, frontier = 1, GENESIS, Frontier()
    if archive is not None:
        start, prev = archive.last_seq + 1, archive.last_hash
        frontier = Frontier.from_json(archive.last_seq, archive.frontier)
    if since_checkpoint:
        point = AuditCheckpoint.objects.filter(tree_size__gte=start - 1).order_by("-tree_size")
        last = point.first()
        if last is not None:
            start, prev = last.tree_size + 1, last.last_row_hash
            frontier = Frontier.from_json(last.tree_size, last.frontier)
    return start, prev, frontier


def verify_chain(
    *,
    since_checkpoint: bool = False,
    verifier_key: str | None = None,
    exported_notes: Iterable[str] = (),
) -> Report:
    """Check the live chain (and checkpoints); stops at the first problem."""
    began = time.perf_counter()
    report = Report()
    start, prev, frontier = _start(since_checkpoint)
    report.first_seq = start
    try:
        checkpoints = _collect_checkpoints(report, frontier.size, verifier_key, exported_notes)
        if frontier.size in checkpoints:
            root, _label, head = checkpoints[frontier.size]
            if frontier.root() != root:
                raise _Stop(
                    Problem(frontier.size, "checkpoint", "stored frontier differs from signed root")
                )
            if head is not None and head.hex() != prev:
                raise _Stop(
                    Problem(
                        frontier.size, "checkpoint", "stored chain head differs from signed head"
                    )
                )
        expected = _walk_any(report, start, prev, frontier, checkpoints)
        for size in sorted(checkpoints):
            if size >= expected:
                raise _Stop(
                    Problem(
                        expected,
                        "truncated",
                        f"event {expected} is missing: the chain ends at event {expected - 1} "
                        f"but the signed {checkpoints[size][1]} covers {size} events "
                        "(the tail was cut off)",
                    )
                )
        report.checkpoints = sum(1 for size in checkpoints if size < expected)
    except _Stop as stop:
        report.problem = stop.problem
    report.seconds = time.perf_counter() - began
    return report


def _walk_any(
    report: Report,
    start: int,
    prev: str,
    frontier: Frontier,
    checkpoints: dict[int, tuple[bytes, str, bytes | None]],
) -> int:
    """PostgreSQL: set-based (``verify_pg``); SQLite, or if that statement fails: row by row."""
    if connection.vendor == "postgresql":
        try:
            failure, last = verify_pg.walk(
                start, prev, frontier, checkpoints, merkle_failure=_checkpoint_stop
            )
        except (DatabaseError, psycopg.Error):  # e.g. a hash edited into something not hex
            pass
        else:
            if failure is not None:
                report.events = failure.position - start
                raise _Stop(Problem(failure.seq, failure.kind, failure.message))
            report.events = last - start + 1
            report.last_seq = last
            return last + 1
    return _walk(report, start, prev, frontier, checkpoints)


def _checkpoint_stop(seq: int, label: str) -> _Stop:
    return _Stop(
        Problem(
            seq,
            "checkpoint",
            f"the chain up to event {seq} differs from the signed {label}: "
            f"events at or before {seq} were rewritten",
        )
    )


def _event_bytes(values: list[Any]) -> bytes:
    """The canonical bytes of a row from :func:`iter_rows`, in its own version."""
    if values[17] == VERSION_2:
        return canonical_bytes_v2(values[:17])
    return canonical_bytes_from_db(values)


def _walk(
    report: Report,
    start: int,
    prev: str,
    frontier: Frontier,
    checkpoints: dict[int, tuple[bytes, str, bytes | None]],
) -> int:
    """Stream the events from ``start``; returns the seq after the last one."""
    expected = start
    sizes = checkpoints
    fromhex = bytes.fromhex
    for values in iter_rows(start):
        seq = values[0]
        if seq != expected:
            raise _Stop(
                Problem(
                    expected,
                    "missing",
                    f"event {expected} is missing: the chain goes from event {expected - 1} "
                    f"to event {seq}",
                )
            )
        version, row_prev, row_hash = values[17], values[18], values[19]
        if version not in (VERSION, VERSION_2):
            raise _Stop(Problem(seq, "version", f"event {seq}: unknown canonical version"))
        try:
            digest = sha256(fromhex(row_prev) + _event_bytes(values)).hexdigest()
        except ValueError:  # a prev_hash that is not hex, content that cannot be serialised
            digest = ""
        if digest != row_hash:
            raise _Stop(
                Problem(
                    seq,
                    "altered",
                    f"event {seq}: its content does not match its hash (changed or moved "
                    "after it was written)",
                )
            )
        if row_prev != prev:
            named = seq - 1 if seq > start else seq
            raise _Stop(
                Problem(
                    named,
                    "rewritten",
                    f"event {seq - 1} does not match the hash event {seq} recorded for it: "
                    f"event {seq - 1} was rewritten (or event {seq}'s link was)",
                )
            )
        frontier.append(fromhex(row_hash))
        if seq in sizes:
            root, label, head = sizes[seq]
            if frontier.root() != root or (head is not None and head.hex() != row_hash):
                raise _checkpoint_stop(seq, label)
        prev = row_hash
        expected += 1
        report.events += 1
    report.last_seq = expected - 1
    return expected
