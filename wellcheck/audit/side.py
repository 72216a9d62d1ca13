"""Overlapping a read's audit event with the rest of the read (PostgreSQL, autocommit only).

A page that shows identifying data writes its ``check.viewed`` event in its own transaction, and
that commit (lock, tail, hash, insert, WAL flush) used to come after all of the read's queries.
:func:`audit_read_begin` starts the append on a side thread with its own database connection as
soon as the read knows what it is showing, so the event's commit runs while the read's remaining
queries run; :meth:`PendingEvent.wait` then waits for it before anything is returned.

What does not change: the event is written and durably committed (unless the async-commit opt-in
says otherwise) *before* the caller gets the data; if the append fails, ``wait()`` raises and the
read fails with it ("no audit, no data"); the event is the same row in the same chain (appends
are serialised by the database's append lock whatever connection they come from).

Only a consultation event written outside any transaction qualifies; everywhere else (SQLite, a
caller inside ``transaction.atomic``, ``WELLCHECK_AUDIT_SIDE_WRITER = False``) the append happens
inline, exactly as :func:`~wellcheck.audit.services.audit_record` does it. One side thread per
process: appends serialise at the database anyway. Its connection follows ``CONN_MAX_AGE`` and
``CONN_HEALTH_CHECKS`` as a request's does (``close_old_connections`` before each append).
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections, connection, connections

from wellcheck.audit.chain import append_event
from wellcheck.audit.events import Category
from wellcheck.audit.models import AuditEvent

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


class PendingEvent:
    """An audit event being appended; :meth:`wait` returns it once committed (or raises)."""

    def __init__(self, event: AuditEvent, future: Future[AuditEvent] | None = None) -> None:
        self._event = event
        self._future = future

    @property
    def overlapped(self) -> bool:
        return self._future is not None

    def wait(self) -> AuditEvent:
        if self._future is not None:
            return self._future.result()
        return self._event


def _append_on_side(event: AuditEvent) -> AuditEvent:
    close_old_connections()  # as at a request's start: drop an obsolete or broken connection
    return append_event(event)


def _side() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wellcheck-audit")
        return _executor


def side_eligible(event: AuditEvent) -> bool:
    return (
        connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and event.category == Category.CONSULTATION
        and bool(getattr(settings, "WELLCHECK_AUDIT_SIDE_WRITER", True))
    )


def start_append(event: AuditEvent) -> PendingEvent:
    """Append ``event`` on the side thread if it qualifies, else now, inline."""
    if side_eligible(event):
        return PendingEvent(event, _side().submit(_append_on_side, event))
    return PendingEvent(append_event(event))


def side_writer_close() -> None:
    """Close the side thread's database connection and stop the thread (tests, shutdown)."""
    global _executor
    with _lock:
        executor, _executor = _executor, None
    if executor is not None:
        executor.submit(connections.close_all).result()
        executor.shutdown(wait=True)
