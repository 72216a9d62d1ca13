"""Set-based verification on PostgreSQL: the database re-hashes every event itself.

``verify.verify_chain`` calls :func:`walk` instead of streaming rows into Python when the
database is PostgreSQL. The checks and the event they name are exactly those of the Python walk
(``verify._walk``); only where they run differs:

* one statement finds the first event, in ``seq`` order, whose ``seq`` does not follow the one
  before it (**missing**), whose canonical version is unknown (**version**), whose version 2 hash
  recomputed in SQL (``sha256(prev_hash bytes || wellcheck_audit_canonical_v2(...))``) differs
  from its ``row_hash`` (**altered**), or whose ``prev_hash`` is not the previous event's
  ``row_hash`` (**rewritten**). It reads the table once, in ``seq`` order, and stops at the first
  hit;
* events still in canonical version 1 (written before migration 0004; a partial index finds
  them) are re-hashed in Python, as before;
* the Merkle leaves (``SHA-256(0x00 || row_hash)``) come from the database in one value per
  million events, and the RFC 6962 tree is built in Python, level by level, while the database
  runs the statement above on the same connection (a second thread waits for it).

Only the events up to the largest ``seq`` seen when verification started are checked; events
appended meanwhile are left to the next run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction

from wellcheck.audit.canonical import VERSION, canonical_bytes_from_db, chain_hash
from wellcheck.audit.canonical_v2 import VERSION_2
from wellcheck.audit.merkle import Frontier

LEAF_BATCH = 1_000_000  # events per fetched value of concatenated leaf hashes (32 MB)

_V2_ARGS = (
    "seq, occurred_at, component, event_type, category, actor_id, actor_name, agency_id, "
    "outcome, request_id, client_ip, target_type, target_id, reason, recipients, changes, details"
)

FIRST_FAILURE = f"""
SELECT seq, canon_version, prev_hash, row_hash, before_seq, computed FROM (
    SELECT seq, canon_version, prev_hash, row_hash,
           lag(seq) OVER w AS before_seq,
           lag(row_hash) OVER w AS before_hash,
           CASE WHEN canon_version = {VERSION_2} THEN encode(sha256(
               decode(prev_hash, 'hex') || wellcheck_audit_canonical_v2({_V2_ARGS})), 'hex')
           END AS computed
    FROM audit_auditevent
    WHERE seq >= %(start)s AND seq <= %(end)s
    WINDOW w AS (ORDER BY seq)
) AS checked
WHERE seq <> coalesce(before_seq, %(start)s - 1) + 1
   OR canon_version NOT IN ({VERSION}, {VERSION_2})
   OR (canon_version = {VERSION_2} AND computed IS DISTINCT FROM row_hash)
   OR prev_hash IS DISTINCT FROM coalesce(before_hash, %(prev)s)
ORDER BY seq
LIMIT 1
"""  # noqa: S608 - no user input: constants only

LEAVES = """
SELECT string_agg(leaf, ''::bytea) FROM (
    SELECT sha256('\\x00'::bytea || decode(row_hash, 'hex')) AS leaf
    FROM audit_auditevent WHERE seq >= %s AND seq <= %s ORDER BY seq
) AS ordered
"""

V1_ROWS = (
    "SELECT seq, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
    "component, event_type, category, actor_id, actor_name, "
    "agency_id::text, outcome, request_id, client_ip, target_type, target_id, reason, "
    "recipients, changes, details, canon_version, prev_hash, row_hash FROM audit_auditevent "
    "WHERE canon_version <> 2 AND seq >= %s AND seq <= %s ORDER BY seq"
)


class Failure:
    """The first row-level problem: (position in seq order, kind, the seq to name, message)."""

    def __init__(self, position: int, kind: str, seq: int, message: str) -> None:
        self.position, self.kind, self.seq, self.message = position, kind, seq, message


def tail_seq() -> int | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(seq) FROM audit_auditevent")
        row = cursor.fetchone()
    return None if row is None or row[0] is None else int(row[0])


def _first_failure(raw: Any, start: int, end: int, prev: str) -> tuple[Any, ...] | None:
    with raw.cursor() as cursor:
        cursor.execute(FIRST_FAILURE, {"start": start, "end": end, "prev": prev})
        row = cursor.fetchone()
    return None if row is None else tuple(row)


def leaf_hashes(start: int, end: int) -> list[bytes]:
    """``SHA-256(0x00 || row_hash)`` of events ``start..end`` in ``seq`` order."""
    leaves: list[bytes] = []
    with connection.cursor() as cursor:
        low = start
        while low <= end:
            high = min(end, low + LEAF_BATCH - 1)
            cursor.execute(LEAVES, [low, high])
            blob = bytes(cursor.fetchone()[0] or b"")
            leaves += [blob[i : i + 32] for i in range(0, len(blob), 32)]
            low = high + 1
    return leaves


def _classify(row: tuple[Any, ...], start: int) -> Failure:
    seq, version, _prev, row_hash, before_seq, computed = row
    expected = start if before_seq is None else before_seq + 1
    if seq != expected:
        return Failure(
            expected,
            "missing",
            expected,
            f"event {expected} is missing: the chain goes from event {expected - 1} to event {seq}",
        )
    if version not in (VERSION, VERSION_2):
        return Failure(seq, "version", seq, f"event {seq}: unknown canonical version")
    if version == VERSION_2 and computed != row_hash:
        return _altered(seq)
    named = seq - 1 if seq > start else seq
    return Failure(
        seq,
        "rewritten",
        named,
        f"event {seq - 1} does not match the hash event {seq} recorded for it: "
        f"event {seq - 1} was rewritten (or event {seq}'s link was)",
    )


def _altered(seq: int) -> Failure:
    return Failure(
        seq,
        "altered",
        seq,
        f"event {seq}: its content does not match its hash (changed or moved after it was written)",
    )


def _first_v1_failure(start: int, end: int) -> Failure | None:
    """Version 1 events (older than migration 0004) re-hashed in Python."""
    with connection.cursor() as cursor:
        cursor.execute(V1_ROWS, [start, end])
        for values in cursor.fetchall():
            seq, version, prev, row_hash = values[0], values[17], values[18], values[19]
            if version != VERSION:
                continue  # reported by the statement (unknown version)
            try:
                digest = chain_hash(prev, canonical_bytes_from_db(values))
            except ValueError:
                return _altered(seq)
            if digest != row_hash:
                return _altered(seq)
    return None


def walk(
    start: int,
    prev: str,
    frontier: Frontier,
    sizes: dict[int, tuple[bytes, str]],
    *,
    merkle_failure: Callable[[int, str], Exception],
) -> tuple[Failure | None, int]:
    """Check events from ``start``; returns (the first row-level failure or None, last seq).

    Raises ``merkle_failure(size, label)`` when the root at a signed size differs and that size
    comes before the first row-level failure (the order of the Python walk).
    """
    end = tail_seq()
    if end is None or end < start:
        return None, start - 1
    raw = connection.connection
    wanted = sorted(size for size in sizes if start <= size <= end)
    leaves: list[bytes] = []
    with transaction.atomic():  # a savepoint: an error (bad hex) leaves the caller's transaction
        if wanted:
            leaves = leaf_hashes(start, wanted[-1])
        found: list[tuple[Any, ...] | None] = []
        errors: list[BaseException] = []

        def run() -> None:
            try:
                found.append(_first_failure(raw, start, end, prev))
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                errors.append(exc)

        worker = threading.Thread(target=run, name="audit-verify-sql")
        worker.start()
        try:
            roots = _roots(frontier, leaves, start, wanted)
        finally:
            worker.join()
        if errors:
            raise errors[0]
    failure = _classify(found[0], start) if found and found[0] is not None else None
    old = _first_v1_failure(start, failure.position if failure is not None else end)
    if old is not None and (
        failure is None
        or old.seq < failure.position
        or (old.seq == failure.position and failure.kind == "rewritten")
    ):
        failure = old
    position = failure.position if failure is not None else end + 1
    for size in wanted:
        if size >= position:
            break
        if roots.get(size) != sizes[size][0]:
            raise merkle_failure(size, sizes[size][1])
    return failure, end


def _roots(
    frontier: Frontier, leaves: list[bytes], start: int, wanted: list[int]
) -> dict[int, bytes]:
    """Merkle roots at the wanted sizes (as far as the fetched leaves reach)."""
    roots: dict[int, bytes] = {}
    tree = frontier.copy()
    done = 0
    for size in wanted:
        upto = size - start + 1
        if upto > len(leaves):
            break
        tree.extend_leaf_hashes(leaves[done:upto])
        done = upto
        roots[size] = tree.root()
    return roots
