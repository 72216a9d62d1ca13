"""The chain at scale and under concurrent writers."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections

from tests.audit.helpers import build_chain_fast, tamper
from wellcheck.audit import chain
from wellcheck.audit.events import EventType
from wellcheck.audit.models import AuditEvent
from wellcheck.audit.services import audit_record
from wellcheck.audit.verify import verify_chain


@pytest.mark.slow  # 10-60 s on the 2-core machine (bulk load + two full verifications)
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


@pytest.mark.django_db(transaction=True)
def test_async_commit_only_for_a_read_event_in_its_own_transaction(
    settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is a PostgreSQL setting")
    from django.db import transaction

    settings.WELLCHECK_AUDIT_ASYNC_READ_COMMIT = True  # type: ignore[attr-defined]
    seen: list[bool] = []
    real = chain.execute_append

    def spy(params: list[object]) -> tuple[int, int, str, str]:
        seen.append(bool(params[-1]))  # the ``relaxed`` argument: synchronous_commit off
        return real(params)

    def relaxed() -> int:
        return sum(seen)

    monkeypatch.setattr(chain, "execute_append", spy)
    audit_record(actor=None, event_type=EventType.CHECK_VIEWED)  # a read, alone: relaxed
    assert relaxed() == 1
    audit_record(actor=None, event_type=EventType.CHECK_UPDATED)  # a change: durable
    with transaction.atomic():  # inside the caller's transaction: durable
        audit_record(actor=None, event_type=EventType.CHECK_VIEWED)
    assert relaxed() == 1
    settings.WELLCHECK_AUDIT_ASYNC_READ_COMMIT = False  # type: ignore[attr-defined]
    audit_record(actor=None, event_type=EventType.CHECK_VIEWED)
    assert relaxed() == 1 and len(seen) == 4
    # what ``relaxed`` does: synchronous_commit off for that transaction only
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT out_seq FROM wellcheck_audit_append(now(), 'web', 'check.viewed', "
            "'consultation', NULL, 'system', NULL, 'success', '', '', '', '', '', "
            "'[]', '{}', '{}', true)"
        )
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "off"
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
    assert verify_chain().ok
