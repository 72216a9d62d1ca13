"""Benchmark: the cost of auditing a record read, with vs without the audit event, same run.

Run: ``.venv/bin/python bench/audit_read_overhead.py [--reads 2000]``

A fresh PostgreSQL database with the test personas and a few hundred checks. Each sample is one
read of a check's identifying record through ``checks.selectors.check_get_identifying`` as a page
does it (autocommit, no surrounding transaction): the door, decrypting the person, and the
``check.viewed`` event (its own transaction, one round trip: ``wellcheck_audit_append`` takes
the lock, reads the tail, hashes and inserts in the database, and the statement commits).
Three kinds of sample, interleaved so that all see the same load:

* ``without``: the same code with ``audit_read_begin`` replaced by a no-op;
* ``durable``: the default: the event's commit waits for the WAL flush (fsync), and it runs on
  the side writer's connection while the read's remaining queries run (``wellcheck.audit.side``;
  the read waits for it before returning);
* ``inline``: durable, with the side writer off (``WELLCHECK_AUDIT_SIDE_WRITER=False``): the
  append runs after the read's queries, on the same connection;
* ``async``: ``WELLCHECK_AUDIT_ASYNC_READ_COMMIT=True`` (docs/adr/0004-audit-chain.md), overlapped.

Target (issue 4): the p95 overhead (p95 with minus p95 without) at most 2 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

from _audit_setup import drop, fresh_django

DB = "wc_audit_read_bench"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--checks", type=int, default=200)
    args = parser.parse_args()
    fresh_django(DB)
    import datetime as dt

    from django.conf import settings
    from django.utils import timezone

    import wellcheck.checks.selectors as selectors
    from wellcheck.audit.models import AuditEvent
    from wellcheck.checks.inputs import CheckInput, PersonInput
    from wellcheck.checks.services import check_create
    from wellcheck.testing.personas import make_world

    world = make_world()
    ids = []
    for i in range(args.checks):
        data = CheckInput(
            unit_id=world.unit_a.pk,
            received_at=timezone.now() - dt.timedelta(hours=i + 1),
            initiator="family",
            reasons=("dementia",),
            triage="attend",
            address=f"{i} BLOCK MAIN ST",
            narrative="Found at home, confused.",
            person=PersonInput(given_name="Ada", family_name=f"Benchperson{i}"),
        )
        ids.append(check_create(actor=world.officer_a, data=data).pk)
    real_audit = selectors.audit_read_begin

    class NoEvent:
        def wait(self) -> None:
            return None

    def no_audit(**kwargs: Any) -> NoEvent:
        return NoEvent()

    def one_read(kind: str) -> float:
        selectors.audit_read_begin = no_audit if kind == "without" else real_audit  # type: ignore[assignment]
        settings.WELLCHECK_AUDIT_ASYNC_READ_COMMIT = kind == "async"
        settings.WELLCHECK_AUDIT_SIDE_WRITER = kind != "inline"
        check_id = random.choice(ids)
        cpu = time.process_time()
        began = time.perf_counter()
        identity = selectors.check_get_identifying(
            actor=world.officer_a, check_id=check_id, reason="follow-up call"
        )
        assert identity is not None and identity.detail.person is not None
        _ = identity.detail.person.family_name  # decrypt, as the page does
        cpu_ms[kind].append((time.process_time() - cpu) * 1000)
        return (time.perf_counter() - began) * 1000

    kinds = ("without", "durable", "inline", "async")
    cpu_ms: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(50):  # warm-up
        for kind in kinds:
            one_read(kind)
    before = AuditEvent.objects.count()
    samples: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(args.reads):
        for kind in kinds:
            samples[kind].append(one_read(kind))
    selectors.audit_read_begin = real_audit
    settings.WELLCHECK_AUDIT_ASYNC_READ_COMMIT = False
    settings.WELLCHECK_AUDIT_SIDE_WRITER = True
    written = AuditEvent.objects.count() - before
    assert written == 3 * args.reads, (written, args.reads)
    from wellcheck.audit.verify import verify_chain

    assert verify_chain().ok
    import os

    print(f"{args.reads} reads of each kind, PostgreSQL, autocommit (as a page reads):")
    print(f"  load average at the end: {os.getloadavg()[0]:.2f}")
    base = samples["without"]
    for kind in kinds:
        values = samples[kind]
        print(
            f"  {kind:8s} p50 {statistics.median(values):6.2f} ms  p95 {pct(values, 95):6.2f} ms"
            f"  p99 {pct(values, 99):6.2f} ms"
        )
    print("  CPU of this process per read (what the app server spends; the wait is elsewhere):")
    for kind in kinds:
        print(f"    {kind:8s} median {statistics.median(cpu_ms[kind]):.2f} ms")
    for kind in ("durable", "inline", "async"):
        values = samples[kind]
        print(
            f"  overhead {kind:8s}: p50 {statistics.median(values) - statistics.median(base):+.2f}"
            f" ms, p95 {pct(values, 95) - pct(base, 95):+.2f} ms   (target p95 <= 2 ms)"
        )
    from wellcheck.audit.side import side_writer_close

    side_writer_close()
    drop(DB)


if __name__ == "__main__":
    main()
