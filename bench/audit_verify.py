"""Benchmark: verifying the audit chain on PostgreSQL at 1M events, against a plain SHA-256 chain.

Run: ``.venv/bin/python bench/audit_verify.py [--events 1000000] [--checkpoint-every 0]``

Loads N chained events (canonical version 2, what ``audit_record`` writes) into a fresh
database in one SQL statement: ``generate_series`` rows, their canonical bytes from
``wellcheck_audit_canonical_v2(...)`` and the chain folded by a window aggregate
(``h = SHA-256(h || bytes)``). Signs a checkpoint at N (and every ``--checkpoint-every`` events
if given), then measures in each round, over the same rows:

* ``fetch+chain`` (the baseline of the ratio): the canonical bytes of every event, built by the
  same SQL function, fetched in ``seq`` order (binary, batches of 100k) and folded into a plain
  SHA-256 chain in Python, with no checks at all: the least any verifier of this format does
  when it has to get the bytes out of the database;
* ``hash-only``: the plain chain over those bytes already in memory (no database: the floor of
  hashing alone, reported for scale);
* ``sql-chain``: the plain chain folded inside PostgreSQL by an aggregate (reported for scale);
* ``verify``: ``wellcheck.audit.verify.verify_chain()``: seq, every row's hash, every link and
  the signed checkpoint(s): signature, size, and the chain head they sign (``--resign root``
  signs them the pre-0004 way, root only, so that verify rebuilds the RFC 6962 Merkle tree).

Targets (issue 4): verify >= 200k events/s and >= 50% of the baseline.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from hashlib import sha256

import psycopg
from _audit_setup import drop, fresh_django

DB = "wc_audit_bench"
FETCH_BATCH = 100_000

CHAIN_FUNCTIONS = [
    # a plain SHA-256 chain as an aggregate: state = SHA-256(state || bytes), from 32 zero bytes
    "CREATE FUNCTION bench_chain_step(state bytea, data bytea) RETURNS bytea "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT sha256(state || data)'",
    "CREATE AGGREGATE bench_sha256_chain(bytea) (SFUNC = bench_chain_step, STYPE = bytea, "
    f"INITCOND = '\\x{'00' * 32}')",
]

ARGS = (
    "seq, occurred_at, component, event_type, category, actor_id, actor_name, agency_id, "
    "outcome, request_id, client_ip, target_type, target_id, reason, recipients, changes, details"
)

LOAD = f"""
INSERT INTO audit_auditevent ({ARGS}, canon_version, prev_hash, row_hash)
SELECT {ARGS}, 2,
       coalesce(encode(lag(h) OVER (ORDER BY seq), 'hex'), repeat('0', 64)), encode(h, 'hex')
FROM (
    SELECT *, bench_sha256_chain(wellcheck_audit_canonical_v2({ARGS})) OVER (ORDER BY seq) AS h
    FROM (
        SELECT i::bigint AS seq,
               timestamptz '2026-01-01 00:00:00+00' + i * interval '1 millisecond' AS occurred_at,
               'web' AS component,
               (ARRAY['check.viewed', 'person.viewed', 'check.created', 'export',
                      'audit.read'])[mod(i, 5) + 1] AS event_type,
               'consultation' AS category,
               (mod(i, 250) + 1)::bigint AS actor_id,
               CASE WHEN mod(i, 17) = 0 THEN 'Zoë Ærø (' || (1000 + mod(i, 250)) || ')'
                    ELSE 'officer' || (mod(i, 250)) || ' (' || (1000 + mod(i, 250)) || ')' END
                   AS actor_name,
               %(agency)s::uuid AS agency_id,
               'success' AS outcome,
               md5(i::text) AS request_id,
               '10.1.2.3' AS client_ip,
               'checks.wellnesscheck' AS target_type,
               md5('t' || i)::uuid::text AS target_id,
               CASE WHEN mod(i, 3) <> 0 THEN 'welfare follow-up' ELSE '' END AS reason,
               CASE WHEN mod(i, 50) = 0 THEN '["Mobile crisis team"]'::jsonb
                    ELSE '[]'::jsonb END AS recipients,
               CASE WHEN mod(i, 10) = 0
                    THEN '{{"state": {{"from": "draft", "to": "submitted"}}}}'::jsonb
                    ELSE '{{}}'::jsonb END AS changes,
               CASE WHEN mod(i, 4) = 0 THEN jsonb_build_object('page', mod(i, 7), 'q', 'née "x"')
                    ELSE '{{}}'::jsonb END AS details
        FROM generate_series(1, %(n)s) AS i
    ) AS generated
) AS chained
"""  # noqa: S608 - constants only

CANONICAL = (
    f"SELECT wellcheck_audit_canonical_v2({ARGS}) FROM audit_auditevent "  # noqa: S608
    "WHERE seq >= %s AND seq < %s ORDER BY seq"
)


def load(n: int) -> float:
    from django.db import connection

    began = time.perf_counter()
    with connection.cursor() as cursor:
        for sql in CHAIN_FUNCTIONS:
            cursor.execute(sql)
        cursor.execute("SET work_mem = '256MB'")
        cursor.execute(LOAD, {"n": n, "agency": "6f1c1f3e-8a41-4d57-9c0e-3c1c8d0e5a10"})
        cursor.execute("RESET work_mem")
        cursor.execute("VACUUM ANALYZE audit_auditevent")
    return time.perf_counter() - began


def fetch_and_chain(n: int) -> tuple[float, float, list[bytes]]:
    """Wall seconds and CPU seconds of fetch + plain chain; the bytes, kept for hash-only."""
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    began, cpu = time.perf_counter(), time.process_time()
    h = bytes(32)
    kept: list[bytes] = []
    with psycopg.Cursor(raw) as cursor:
        for low in range(1, n + 1, FETCH_BATCH):
            cursor.execute(CANONICAL, [low, low + FETCH_BATCH], binary=True)
            for (data,) in cursor:
                h = sha256(h + data).digest()
                kept.append(data)
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    assert len(kept) == n
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_hash FROM audit_auditevent WHERE seq = %s", [n])
        assert cursor.fetchone()[0] == h.hex(), "baseline chain differs from the stored chain"
    return wall, cpu, kept


def hash_only(blobs: list[bytes]) -> float:
    began = time.perf_counter()
    h = bytes(32)
    for data in blobs:
        h = sha256(h + data).digest()
    return time.perf_counter() - began


def sql_chain(n: int) -> float:
    from django.db import connection

    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT encode(bench_sha256_chain(wellcheck_audit_canonical_v2({ARGS}) "  # noqa: S608
            "ORDER BY seq), 'hex') FROM audit_auditevent"
        )
        (head,) = cursor.fetchone()
        cursor.execute("SELECT row_hash FROM audit_auditevent WHERE seq = %s", [n])
        assert cursor.fetchone()[0] == head
    return time.perf_counter() - began


def resign(n: int, every: int, *, head: bool) -> None:
    """Delete the checkpoints (as the superuser, behind the triggers) and sign them again."""
    from django.db import connection

    from wellcheck.audit import checkpoints
    from wellcheck.audit.signing import Checkpoint
    from wellcheck.audit.triggers import triggers_bypassed

    with triggers_bypassed(connection), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditcheckpoint")
    if not head:
        checkpoints.Checkpoint = lambda **kw: Checkpoint(**{**kw, "head": None})  # type: ignore[assignment,misc]
    for size in range(every, n, every) if every else ():
        checkpoints.checkpoint_create(up_to=size)
    checkpoints.checkpoint_create()
    checkpoints.Checkpoint = Checkpoint  # type: ignore[misc]
    print(f"  checkpoints signed again ({'head' if head else 'root only'})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--checkpoint-every", type=int, default=0, help="0: one checkpoint at N")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept database (no load)")
    parser.add_argument(
        "--resign",
        choices=("head", "root"),
        help="with --reuse: replace the checkpoints, signed with the chain head (default since "
        "migration 0004) or with the Merkle root only (as before: verify rebuilds the tree)",
    )
    args = parser.parse_args()
    n = args.events
    if args.reuse:
        os.environ["WELLCHECK_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB}"
        fresh_django(DB, create=False)
    else:
        fresh_django(DB)
    from wellcheck.audit.checkpoints import checkpoint_create
    from wellcheck.audit.models import AuditCheckpoint
    from wellcheck.audit.verify import verify_chain

    if not args.reuse:
        print(f"loading {n:,} chained events (one SQL statement) ...", flush=True)
        print(f"  loaded in {load(n):.1f} s", flush=True)
        t = time.perf_counter()
        if args.checkpoint_every:
            for size in range(args.checkpoint_every, n, args.checkpoint_every):
                checkpoint_create(up_to=size)
        point = checkpoint_create()
        assert point is not None and point.tree_size == n
        print(f"  checkpoints (Merkle + Ed25519) in {time.perf_counter() - t:.2f} s", flush=True)
    if args.resign:
        resign(n, args.checkpoint_every, head=args.resign == "head")
    checkpoints = AuditCheckpoint.objects.count()
    rates: dict[str, list[float]] = {k: [] for k in ("base", "base_cpu", "hash", "sql", "verify")}
    verify_cpu: list[float] = []
    for r in range(args.rounds):
        wall, cpu, blobs = fetch_and_chain(n)
        rates["base"].append(n / wall)
        rates["base_cpu"].append(n / cpu)
        rates["hash"].append(n / hash_only(blobs))
        del blobs
        rates["sql"].append(n / sql_chain(n))
        cpu = time.process_time()
        report = verify_chain()
        verify_cpu.append(n / max(time.process_time() - cpu, 1e-9))
        assert report.ok and report.events == n, report.problem
        assert report.checkpoints == checkpoints, (report.checkpoints, checkpoints)
        rates["verify"].append(n / report.seconds)
        print(
            f"  round {r + 1}: fetch+chain {rates['base'][-1]:,.0f}/s, "
            f"hash-only {rates['hash'][-1]:,.0f}/s, sql-chain {rates['sql'][-1]:,.0f}/s, "
            f"verify {rates['verify'][-1]:,.0f}/s   (load {os.getloadavg()[0]:.2f})",
            flush=True,
        )
    base, only, sql, ver = (statistics.median(rates[k]) for k in ("base", "hash", "sql", "verify"))
    print(f"median over {args.rounds} rounds, {n:,} events, {checkpoints} checkpoint(s):")
    print(f"  baseline fetch+chain (same bytes, plain SHA-256 chain in Python): {base:,.0f}/s")
    print(f"  hash-only (plain SHA-256 chain over the bytes in memory): {only:,.0f}/s")
    print(f"  sql-chain (plain SHA-256 chain folded by a PostgreSQL aggregate): {sql:,.0f}/s")
    print(f"  audit verify (seq, hashes, links, signed checkpoints): {ver:,.0f}/s")
    print(
        f"  verify / fetch+chain = {ver / base:.0%} (the target's ratio);  "
        f"verify / hash-only = {ver / only:.0%};  verify / sql-chain = {ver / sql:.0%}"
    )
    print("  targets: >= 200,000 events/s and >= 50% of the baseline")
    print(
        f"  events per CPU-second of this Python process: fetch+chain "
        f"{statistics.median(rates['base_cpu']):,.0f}, verify {statistics.median(verify_cpu):,.0f}"
        " (verify's work is in the database, whose CPU is not counted here)"
    )
    if not args.keep:
        drop(DB)


if __name__ == "__main__":
    main()
