"""The chain at scale and under concurrent writers."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections

from tests.audit.helpers import build_chain_fast, tamper
from wellcheck.audit.events import EventType
from wellcheck.audit.models import AuditEvent
from wellcheck.audit.services import audit_record
from wellcheck.audit.verify import verify_chain


def test_intact_trail_of_100k_events_verifies(db: None) -> None:
    build_chain_fast(100_000)
    began = time.perf_counter()
    report = verify_chain()
    elapsed = time.perf_counter() - began
    assert report.ok, report.problem
    assert (report.events, report.first_seq, report.last_seq) == (100_000, 1, 100_000)
    assert elapsed < 60, f"verifying 100k events took {elapsed:.1f} s"
    # and one altered event among them is still found
    tamper("UPDATE audit_auditevent SET target_id = 'x' WHERE seq = 77777")
    report = verify_chain()
    assert report.problem is not None and report.problem.seq == 77777


WRITERS = 4
EACH = 40


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_leave_one_chain_without_fork_or_gap() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs several connections writing at once (PostgreSQL)")
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer(number: int) -> None:
        try:
            start.wait()
            for i in range(EACH):
                audit_record(
                    actor=None,
                    event_type=EventType.CHECK_LISTED,
                    component=f"writer-{number}",
                    details={"i": i},
                )
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, WRITERS * EACH + 1))
    writers = set(AuditEvent.objects.values_list("component", flat=True))
    assert writers == {f"writer-{n}" for n in range(WRITERS)}
    report = verify_chain()
    assert report.ok, report.problem
    assert report.events == WRITERS * EACH
