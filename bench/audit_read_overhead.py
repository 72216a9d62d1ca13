"""Benchmark: the cost of auditing a record read, with vs without the audit event, same run.

Run: ``.venv/bin/python bench/audit_read_overhead.py [--reads 2000]``

A fresh PostgreSQL database with the test personas and a few hundred checks. Each sample is one
read of a check's identifying record through ``checks.selectors.check_get_identifying`` in its own
transaction, as a request does it: decrypting the person, writing the ``check.viewed`` event
(chained: advisory lock, tail read, hash, insert) and committing. The "without" samples run the
same code with ``audit_record`` replaced by a no-op. Samples alternate, so both see the same load.
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

    from django.db import transaction
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
    real_audit = selectors.audit_record

    def no_audit(**kwargs: Any) -> None:
        return None

    def one_read(audited: bool) -> float:
        selectors.audit_record = real_audit if audited else no_audit  # type: ignore[assignment]
        check_id = random.choice(ids)
        began = time.perf_counter()
        with transaction.atomic():
            identity = selectors.check_get_identifying(
                actor=world.officer_a, check_id=check_id, reason="follow-up call"
            )
            assert identity is not None and identity.detail.person is not None
            _ = identity.detail.person.family_name  # decrypt, as the page does
        return (time.perf_counter() - began) * 1000

    for _ in range(100):  # warm-up
        one_read(True)
        one_read(False)
    before = AuditEvent.objects.count()
    with_ms: list[float] = []
    without_ms: list[float] = []
    for i in range(args.reads * 2):
        (with_ms if i % 2 == 0 else without_ms).append(one_read(i % 2 == 0))
    selectors.audit_record = real_audit
    written = AuditEvent.objects.count() - before
    assert written == args.reads, (written, args.reads)
    from wellcheck.audit.verify import verify_chain

    assert verify_chain().ok
    print(f"{args.reads} reads each way, PostgreSQL, one transaction per read (as a request):")
    for name, values in (("with audit", with_ms), ("without audit", without_ms)):
        print(
            f"  {name:14s} p50 {statistics.median(values):.2f} ms  p95 {pct(values, 95):.2f} ms"
            f"  p99 {pct(values, 99):.2f} ms"
        )
    print(
        f"  overhead: p50 {statistics.median(with_ms) - statistics.median(without_ms):+.2f} ms, "
        f"p95 {pct(with_ms, 95) - pct(without_ms, 95):+.2f} ms   (target p95 <= 2 ms)"
    )
    drop(DB)


if __name__ == "__main__":
    main()
