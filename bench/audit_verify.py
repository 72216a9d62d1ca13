"""Benchmark: verifying the audit chain on PostgreSQL at 1M events, against a plain SHA-256 chain.

Run: ``.venv/bin/python bench/audit_verify.py [--events 1000000]``

Loads N chained events into a fresh database (COPY), signs a checkpoint at N, then measures in
the same run, each over the same rows:

* ``baseline``: the same SELECT and the same canonical bytes, folded into a plain SHA-256 chain
  (``h = SHA-256(h || bytes)``) with no checks at all: the least any verifier of this format does;
* ``hash-only``: the plain chain over the canonical bytes already in memory (no database);
* ``verify``: ``wellcheck.audit.verify.verify_chain()``: seq, per-row hash, links, the RFC 6962
  Merkle tree and the signed checkpoint.

Targets (issue 4): verify >= 200k events/s and >= 50% of the baseline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time
import uuid
from hashlib import sha256

from _audit_setup import drop, fresh_django

DB = "wc_audit_bench"
# events per second of this process's own CPU time (the machine is shared: wall time understates)
CPU: dict[str, list[float]] = {"baseline": [], "verify": []}
TYPES = ("check.viewed", "person.viewed", "check.created", "export", "audit.read")


def load(n: int) -> float:
    from django.db import connection

    from wellcheck.audit.canonical import GENESIS, canonical_bytes, chain_hash, row_values

    began = time.perf_counter()
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    agency = uuid.uuid4()
    cols = (
        "seq, occurred_at, component, event_type, category, actor_id, actor_name, agency_id, "
        "outcome, request_id, client_ip, target_type, target_id, reason, recipients, changes, "
        "details, canon_version, prev_hash, row_hash"
    )
    prev = GENESIS
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY audit_auditevent ({cols}) FROM STDIN") as copy,
    ):
        for i in range(n):
            values = {
                "seq": i + 1,
                "occurred_at": start + dt.timedelta(milliseconds=i),
                "component": "web",
                "event_type": TYPES[i % 5],
                "category": "consultation",
                "actor_id": i % 250 + 1,
                "actor_name": f"officer{i % 250} ({1000 + i % 250})",
                "agency_id": agency,
                "outcome": "success",
                "request_id": uuid.UUID(int=i).hex,
                "client_ip": "10.1.2.3",
                "target_type": "checks.wellnesscheck",
                "target_id": str(uuid.UUID(int=i * 7919)),
                "reason": "welfare follow-up" if i % 3 else "",
                "recipients": ["Mobile crisis team"] if i % 50 == 0 else [],
                "changes": {"state": {"from": "draft", "to": "submitted"}} if i % 10 == 0 else {},
                "details": {"page": i % 7} if i % 4 == 0 else {},
            }
            row_hash = chain_hash(prev, canonical_bytes(row_values(values)))
            copy.write_row(
                [
                    *(values[k] for k in list(values)[:14]),
                    json.dumps(values["recipients"]),
                    json.dumps(values["changes"]),
                    json.dumps(values["details"]),
                    1,
                    prev,
                    row_hash,
                ]
            )
            prev = row_hash
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditevent")
    return time.perf_counter() - began


def baseline() -> tuple[float, int, list[bytes]]:
    from wellcheck.audit.canonical import canonical_bytes_from_db
    from wellcheck.audit.verify import iter_rows

    began = time.perf_counter()
    cpu = time.process_time()
    h = bytes(32)
    count = 0
    kept: list[bytes] = []
    for values in iter_rows(1):
        data = canonical_bytes_from_db(values)
        h = sha256(h + data).digest()
        count += 1
        if count <= 200_000:
            kept.append(data)
    CPU["baseline"].append(count / (time.process_time() - cpu))
    return time.perf_counter() - began, count, kept


def hash_only(blobs: list[bytes]) -> float:
    began = time.perf_counter()
    h = bytes(32)
    for data in blobs:
        h = sha256(h + data).digest()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    fresh_django(DB)
    from wellcheck.audit.checkpoints import checkpoint_create
    from wellcheck.audit.verify import verify_chain

    n = args.events
    print(f"loading {n:,} chained events ...", flush=True)
    print(f"  loaded in {load(n):.1f} s", flush=True)
    t = time.perf_counter()
    point = checkpoint_create()
    assert point is not None and point.tree_size == n
    print(f"  checkpoint (Merkle root over {n:,} + Ed25519) in {time.perf_counter() - t:.2f} s")
    base_rates, verify_rates, hash_rates = [], [], []
    for r in range(args.rounds):
        seconds, count, blobs = baseline()
        assert count == n
        base_rates.append(n / seconds)
        hash_rates.append(len(blobs) / hash_only(blobs))
        cpu = time.process_time()
        report = verify_chain()
        CPU["verify"].append(n / (time.process_time() - cpu))
        assert report.ok and report.events == n and report.checkpoints == 1, report.problem
        verify_rates.append(n / report.seconds)
        print(
            f"  round {r + 1}: baseline {base_rates[-1]:,.0f}/s, verify {verify_rates[-1]:,.0f}/s, "
            f"hash-only {hash_rates[-1]:,.0f}/s",
            flush=True,
        )
    base, ver, only = (statistics.median(x) for x in (base_rates, verify_rates, hash_rates))
    print(f"median over {args.rounds} rounds, {n:,} events on PostgreSQL:")
    print(f"  baseline (same SELECT + same canonical bytes + plain SHA-256 chain): {base:,.0f}/s")
    print(f"  hash-only (plain SHA-256 chain over the bytes in memory): {only:,.0f}/s")
    print(f"  audit verify (links, hashes, Merkle, signed checkpoint): {ver:,.0f}/s")
    print(f"  verify / baseline = {ver / base:.0%}   (targets: >= 200,000/s and >= 50%)")
    cpu_base, cpu_ver = statistics.median(CPU["baseline"]), statistics.median(CPU["verify"])
    print(
        f"  per CPU-second of the verifying process: baseline {cpu_base:,.0f}/s, "
        f"verify {cpu_ver:,.0f}/s ({cpu_ver / cpu_base:.0%})"
    )
    if not args.keep:
        drop(DB)


if __name__ == "__main__":
    main()
