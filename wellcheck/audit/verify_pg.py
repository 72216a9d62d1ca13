"""Set-based verification on PostgreSQL: the database re-hashes every event itself.

``verify.verify_chain`` calls :func:`walk` instead of streaming rows into Python when the
database is PostgreSQL. The checks and the event they name are exactly those of the Python walk
(``verify._walk``); only where they run differs:

* one ordered pass (``LINKS``) finds the first event, in ``seq`` order, whose ``seq`` does not
  follow the one before it (**missing**), whose canonical version is unknown (**version**), or
  whose ``prev_hash`` is not the previous event's ``row_hash`` (**rewritten**);
* one statement (``HASHES``, which PostgreSQL may split over parallel workers) re-hashes every
  version 2 event in SQL, ``sha256(prev_hash bytes || wellcheck_audit_canonical_v2(...))``, and
  returns the first whose hash differs from its ``row_hash`` (**altered**);
* events still in canonical version 1 (written before migration 0004; a partial index finds
  them) are re-hashed in Python, as before;
* a checkpoint signed with the chain's head (``row_hash`` at its size, every checkpoint since
  migration 0004) is checked against that event's ``row_hash``: with every event re-hashed and
  every link checked, that one hash pins the whole chain up to it (changing any earlier event
  without breaking a link would need a SHA-256 collision), exactly what recomputing the Merkle
  root proves, without hashing every leaf again;
* for an older checkpoint (signed root only) the RFC 6962 tree is rebuilt: the raw ``row_hash``
  bytes are fetched as one value per million events and hashed in Python, level by level, while
  the database runs ``HASHES`` (a second thread waits for it).

The first problem in ``seq`` order wins, with the Python walk's order inside one event (missing,
version, altered, rewritten, then the checkpoint at that size). Only events up to the largest
``seq`` seen when verification started are checked; later appends are left to the next run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from hashlib import sha256
from typing import Any

import psycopg
from django.db import connection, transaction

from wellcheck.audit.canonical import VERSION, canonical_bytes_from_db, chain_hash
from wellcheck.audit.canonical_v2 import VERSION_2
from wellcheck.audit.merkle import Frontier

LEAF_BATCH = 1_000_000  # events per fetched value of concatenated leaf hashes (32 MB)

_V2_ARGS = (
    "seq, occurred_at, component, event_type, category, actor_id, actor_name, agency_id, "
    "outcome, request_id, client_ip, target_type, target_id, reason, recipients, changes, details"
)

LINKS = f"""
SELECT min(seq) FROM (
    SELECT seq, canon_version, prev_hash,
           lag(seq) OVER w AS before_seq,
           lag(row_hash) OVER w AS before_hash
    FROM audit_auditevent
    WHERE seq >= %(start)s AND seq <= %(end)s
    WINDOW w AS (ORDER BY seq)
) AS ordered
WHERE seq <> coalesce(before_seq, %(start)s - 1) + 1
   OR canon_version NOT IN ({VERSION}, {VERSION_2})
   OR prev_hash IS DISTINCT FROM coalesce(before_hash, %(prev)s)
"""  # noqa: S608 - constants only

HASHES = f"""
SELECT min(seq) FILTER (WHERE sha256(decode(prev_hash, 'hex')
                                     || wellcheck_audit_canonical_v2({_V2_ARGS}))
                              IS DISTINCT FROM decode(row_hash, 'hex'))
FROM audit_auditevent
WHERE canon_version = {VERSION_2} AND seq >= %(start)s AND seq <= %(end)s
"""  # noqa: S608 - constants only

# the row that failed the ordered pass, and the one before it
AROUND = """
SELECT seq, canon_version, prev_hash,
       (SELECT max(seq) FROM audit_auditevent b WHERE b.seq < e.seq AND b.seq >= %s)
FROM audit_auditevent e WHERE seq = %s
"""

LEAVES = """
SELECT string_agg(leaf, ''::bytea) FROM (
    SELECT decode(row_hash, 'hex') AS leaf
    FROM audit_auditevent WHERE seq >= %s AND seq <= %s ORDER BY seq
) AS ordered
"""

# Let the planner split HASHES over workers even though it underrates the hashing's cost.
_PARALLEL = {"parallel_setup_cost": "0", "parallel_tuple_cost": "0"}

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


def _first_altered(raw: Any, start: int, end: int) -> int | None:
    """``HASHES`` on the raw connection (called from a second thread)."""
    with raw.cursor() as cursor:
        saved = {}
        for name, value in _PARALLEL.items():
            cursor.execute(
                "SELECT current_setting(%s), set_config(%s, %s, true)", [name, name, value]
            )
            saved[name] = cursor.fetchone()[0]
        cursor.execute(HASHES, {"start": start, "end": end})
        row = cursor.fetchone()
        for name, value in saved.items():
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
    return None if row is None or row[0] is None else int(row[0])


def _first_link_seq(raw: Any, start: int, end: int, prev: str) -> int | None:
    """``LINKS`` on a psycopg connection (called from a thread)."""
    with raw.cursor() as cursor:
        cursor.execute(LINKS, {"start": start, "end": end, "prev": prev})
        row = cursor.fetchone()
    return None if row is None or row[0] is None else int(row[0])


def _broken_link(start: int, found: int | None) -> Failure | None:
    """What is wrong at ``found``, the first event that failed ``LINKS``."""
    if found is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(AROUND, [start, found])
        seq, version, _prev, before_seq = cursor.fetchone()
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
    named = seq - 1 if seq > start else seq
    return Failure(
        seq,
        "rewritten",
        named,
        f"event {seq - 1} does not match the hash event {seq} recorded for it: "
        f"event {seq - 1} was rewritten (or event {seq}'s link was)",
    )


def row_hashes(start: int, end: int) -> list[bytes]:
    """The raw ``row_hash`` bytes of events ``start..end`` in ``seq`` order."""
    leaves: list[bytes] = []
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        low = start
        while low <= end:
            high = min(end, low + LEAF_BATCH - 1)
            cursor.execute(LEAVES, [low, high], binary=True)  # bytea without hex
            row = cursor.fetchone()
            blob = bytes(row[0] or b"") if row is not None else b""
            leaves += [blob[i : i + 32] for i in range(0, len(blob), 32)]
            low = high + 1
    return leaves


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


def _earlier(altered: Failure | None, other: Failure | None) -> Failure | None:
    """The problem the row-by-row walk would meet first (altered beats rewritten at one seq)."""
    if altered is None:
        return other
    if other is None or altered.seq < other.position:
        return altered
    if altered.seq == other.position and other.kind == "rewritten":
        return altered
    return other


def walk(
    start: int,
    prev: str,
    frontier: Frontier,
    sizes: dict[int, tuple[bytes, str, bytes | None]],
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
    wanted = sorted(size for size in sizes if start <= size <= end)
    unbound = [size for size in wanted if sizes[size][2] is None]  # root only: rebuild the tree
    # Outside a transaction, LINKS runs on a second connection at the same time as HASHES (both
    # see every event up to ``end``: they were committed before ``end`` was read). Inside one,
    # a second connection would not see the caller's uncommitted events: one after the other.
    apart = not connection.in_atomic_block
    with transaction.atomic():  # a savepoint: an error (bad hex) leaves the caller's transaction
        heads = _row_hashes_at([size for size in wanted if sizes[size][2] is not None])
        leaves = row_hashes(start, unbound[-1]) if unbound else []
        raw = connection.connection
        results: dict[str, int | None] = {}
        errors: list[BaseException] = []

        def run(name: str, job: Callable[[], int | None]) -> None:
            try:
                results[name] = job()
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                errors.append(exc)

        def links_apart() -> int | None:
            with psycopg.connect(**connection.get_connection_params()) as other:
                return _first_link_seq(other, start, end, prev)

        def hashes_then_links() -> int | None:
            found = _first_altered(raw, start, end)
            if not apart:
                results["links"] = _first_link_seq(raw, start, end, prev)
            return found

        workers = [threading.Thread(target=run, args=("hashes", hashes_then_links))]
        if apart:
            workers.append(threading.Thread(target=run, args=("links", links_apart)))
        for worker in workers:
            worker.start()
        try:
            roots = _roots(frontier, leaves, start, unbound)
        finally:
            for worker in workers:
                worker.join()
        if errors:
            raise errors[0]
        failure = _broken_link(start, results.get("links"))
    altered = results.get("hashes")
    failure = _earlier(_altered(altered) if altered is not None else None, failure)
    old = _first_v1_failure(start, failure.position if failure is not None else end)
    failure = _earlier(old, failure)
    position = failure.position if failure is not None else end + 1
    for size in wanted:
        if size >= position:
            break
        root, label, head = sizes[size]
        if head is not None and heads.get(size) != head.hex():
            raise merkle_failure(size, label)
        if head is None and roots.get(size) != root:
            raise merkle_failure(size, label)
    return failure, end


def _row_hashes_at(seqs: list[int]) -> dict[int, str]:
    if not seqs:
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq, row_hash FROM audit_auditevent WHERE seq = ANY(%s)", [seqs])
        return {int(seq): str(row_hash) for seq, row_hash in cursor.fetchall()}


def _roots(
    frontier: Frontier, leaves: list[bytes], start: int, wanted: list[int]
) -> dict[int, bytes]:
    """Merkle roots at the wanted sizes (as far as the fetched row hashes reach)."""
    roots: dict[int, bytes] = {}
    tree = frontier.copy()
    done = 0
    sha = sha256
    for size in wanted:
        upto = size - start + 1
        if upto > len(leaves):
            break
        tree.extend_leaf_hashes([sha(b"\x00" + h).digest() for h in leaves[done:upto]])
        done = upto
        roots[size] = tree.root()
    return roots
