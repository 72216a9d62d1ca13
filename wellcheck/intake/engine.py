"""The streaming import: read, parse, write in batches, report progress.

Memory is flat: one batch of parsed rows at a time (``batch_size``). Each batch commits on its
own (see ``intake.services``), and the reject lines of a batch are flushed to the reject file
before the batch commits; on resume the reject file is cut back to the size recorded with the last
committed batch, so it too ends exactly as after one clean run.
"""

from __future__ import annotations

import csv
import functools
import gc
import hashlib
import io
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.db import connection

from wellcheck.accounts.models import Agency, RecordPolicy, User
from wellcheck.core.errors import ServiceError
from wellcheck.intake import ledger, producer, services
from wellcheck.intake.models import ImportRun, RunStatus
from wellcheck.intake.parse import Call, Rejected, RowParser
from wellcheck.intake.profiles import Profile
from wellcheck.intake.reader import CsvSource, Refused

PREFLIGHT_ROWS = 1000
SWITCH_INTERVAL = 0.0005  # seconds
PIPELINE = True  # PostgreSQL: prepare the next batch while this one is written
RENDER_AHEAD = True  # with PIPELINE: the checks' rows are made in the parsing process
RENDER_DETAILS_AHEAD = False
GC_YOUNG = 50_000  # allocations between collections of the youngest generation, during a run
Progress = Callable[[int, int, int], None]


@dataclass
class ImportResult:
    """What a run did. ``refused`` means nothing was written (see ``message``)."""

    summary: dict[str, Any]
    run: ImportRun | None = None
    refused: bool = False
    message: str = ""
    notes: list[str] = field(default_factory=list)
    reject_path: str = ""

    def json_summary(self) -> dict[str, Any]:
        return {k: self.summary[k] for k in services.SUMMARY_KEYS}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def preflight(path: Path, profile: Profile, *, tally: bool) -> None:
    """Refuse a file none of whose first rows can be read under this profile (wrong profile)."""
    with CsvSource(path, profile) as source:
        parser = RowParser(profile, source.header, tally=tally)
        first_reason, seen = "", 0
        for raw in source.rows():
            seen += 1
            parsed = parser.parse(raw)
            if isinstance(parsed, Call):
                return
            first_reason = first_reason or f"line {parsed.line}: {parsed.reason}"
            if seen >= PREFLIGHT_ROWS:
                break
        if seen:
            raise Refused(
                f"{path.name}: none of the first {seen} rows can be read with the profile "
                f"{profile.name!r} ({first_reason}). Wrong profile?"
            )


class RejectFile:
    """Append-only reject CSV (line, reason, row); cut back to a committed size on resume."""

    def __init__(self, path: Path | None, *, keep_bytes: int, with_values: bool) -> None:
        self.path = path
        self.size = keep_bytes
        self.with_values = with_values
        self._fh: BinaryIO | None = None
        self._pending = io.StringIO()
        self._writer = csv.writer(self._pending)
        if path is not None and (keep_bytes or path.exists()):
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = path.open("r+b" if path.exists() else "w+b")
            self._fh.truncate(keep_bytes)
            self._fh.seek(keep_bytes)

    def add(self, rejected: Rejected) -> None:
        row = [rejected.line, rejected.reason]
        if self.with_values:
            row.append(",".join(rejected.values))
        self._writer.writerow(row)

    def flush(self) -> int:
        """Write what is pending to disk (fsync) and return the file size."""
        data = self._pending.getvalue()
        if data and self.path is not None:
            if self._fh is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fh = self.path.open("w+b")
                self._fh.write(b"line,reason,row\r\n" if self.with_values else b"line,reason\r\n")
            self._fh.write(data.encode("utf-8"))
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self.size = self._fh.tell()
        self._pending.seek(0)
        self._pending.truncate()
        return self.size

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()


def run_import(
    *,
    agency: Agency,
    profile: Profile,
    path: Path,
    actor: User | None = None,
    reject_path: Path | None = None,
    batch_size: int = 50_000,
    progress: Progress | None = None,
    run: ImportRun | None = None,
    file_name: str | None = None,
) -> ImportResult:
    """Import one file. Refusals (unreadable file, wrong profile) write nothing."""
    path = Path(path)
    tally = agency.record_policy == RecordPolicy.CONSENT_ONLY
    try:
        with CsvSource(path, profile):
            pass
        ctx = services.ImportContext.build(agency=agency, profile=profile, actor=actor)
        preflight(path, profile, tally=tally)
    except (Refused, ServiceError) as exc:
        message = exc.messages[0] if isinstance(exc, ServiceError) else str(exc)
        if run is not None:
            run = services.import_run_close(run=run, status=RunStatus.REFUSED, message=message)
        return ImportResult(
            summary=services.empty_counters(), run=run, refused=True, message=message
        )
    with _collector_for_bulk():
        return _run(ctx, run, path, file_name, reject_path, batch_size, progress)


def _run(
    ctx: services.ImportContext,
    run: ImportRun | None,
    path: Path,
    file_name: str | None,
    reject_path: Path | None,
    batch_size: int,
    progress: Progress | None,
) -> ImportResult:
    source = None
    if run is None and not services.import_run_unfinished(agency=ctx.agency, profile=ctx.profile):
        # Nothing to resume: the parsing process starts now, while the file is hashed.
        source = _start(ctx, path, batch_size=batch_size, skip=0)
    try:
        run = services.import_run_open(
            actor=ctx.actor,
            agency=ctx.agency,
            profile=ctx.profile,
            file_name=file_name or path.name,
            file_sha256=file_sha256(path),
            file_size=path.stat().st_size,
            batch_size=batch_size,
            reject_path=reject_path,
            run=run,
        )
    except BaseException:
        if source is not None:
            source.close()
        raise
    if source is not None and (run.rows_done or run.batch_size != batch_size):
        source.close()  # another process left a run of this file to resume meanwhile
        source = None
    rejects = RejectFile(
        Path(run.reject_path) if run.reject_path else None,
        keep_bytes=run.reject_bytes if run.rows_done else 0,
        with_values=not ctx.tally,
    )
    try:
        if source is None:
            source = _start(ctx, path, batch_size=run.batch_size, skip=run.rows_done)
        notes = _consume(ctx, run, source, rejects, progress, path.stat().st_size)
    except BaseException:
        rejects.close()
        if source is not None:
            source.close()
        try:
            services.import_run_close(run=run, status=RunStatus.FAILED, message="interrupted")
        except Exception:  # noqa: S110  (the original error is what matters)
            pass
        raise
    rejects.close()
    run = services.import_run_close(run=run, status=RunStatus.FINISHED)
    summary = services.merge_counters(run.counters, {})
    return ImportResult(
        summary=summary,
        run=run,
        notes=notes,
        reject_path=run.reject_path if run.reject_bytes else "",
    )


def _pipelined_for(ctx: services.ImportContext) -> bool:
    return PIPELINE and connection.vendor == "postgresql" and not ctx.legacy


def _start(
    ctx: services.ImportContext, path: Path, *, batch_size: int, skip: int
) -> producer.Producer:
    """The parsing process (``intake.producer``), started."""
    from wellcheck.insights.rollups import agency_zone

    render = None
    if _pipelined_for(ctx) and RENDER_AHEAD:
        render = functools.partial(
            services.render_checks,
            ctx,
            services.batch_sealer_for(ctx),
            details=RENDER_DETAILS_AHEAD,
        )
    job = producer.Job(
        path=path,
        profile=ctx.profile,
        tally=ctx.tally,
        mark_zone=agency_zone(ctx.agency.pk),
        batch_size=batch_size,
        skip=skip,
        fast=not ctx.legacy,  # ledger rows from before 0005 are keyed by the full parse
        render=render,
    )
    source = producer.Producer(job)
    source.start()
    return source


@contextmanager
def _collector_for_bulk() -> Iterator[None]:
    """Python's cyclic garbage collector, tuned for the run (both processes: the parsing one
    inherits it): the objects made so far (Django, the profile, the keys) are frozen out of its
    scans, and the youngest generation is collected every ``GC_YOUNG`` allocations instead of
    700. A run makes millions of short-lived acyclic objects, freed by reference counting; the
    default settings spent about a second of the writer's time (1,100 collections, 7 of the
    whole heap) scanning them per million rows. Restored when the run ends."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_YOUNG, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _consume(
    ctx: services.ImportContext,
    run: ImportRun,
    source: producer.Producer,
    rejects: RejectFile,
    progress: Progress | None,
    file_size: int,
) -> list[str]:
    try:
        if _pipelined_for(ctx):
            with ledger.agency_session_lock(ctx.agency.pk):
                return _pipelined(ctx, run, source, rejects, progress, file_size)
        while True:
            item = _next(source)
            if isinstance(item, producer.End):
                if progress:
                    progress(item.consumed, file_size, file_size)
                return item.notes
            for rejected in item.rejects:
                rejects.add(rejected)
            reject_bytes = rejects.flush()
            services.import_batch_apply(
                ctx=ctx,
                run=run,
                others=item.others,
                calls=item.calls,
                rejected=len(item.rejects),
                rows_consumed=item.consumed,
                bytes_done=item.bytes_done,
                reject_bytes=reject_bytes,
            )
            if progress and not item.tail:
                progress(item.consumed, item.bytes_done, file_size)
    finally:
        source.close()


def _next(source: producer.Producer) -> producer.Batch | producer.End:
    item = source.get()
    if isinstance(item, producer.Failed):
        if item.error is not None:
            raise item.error
        raise RuntimeError(f"The import's parsing failed: {item.message}")
    return item


def _pipelined(
    ctx: services.ImportContext,
    run: ImportRun,
    source: producer.Producer,
    rejects: RejectFile,
    progress: Progress | None,
    file_size: int,
) -> list[str]:
    """PostgreSQL: batch N+1 is worked out in memory (a thread: Python) while batch N is written
    (this thread: mostly waiting for the database, which releases the GIL). The ledger pages
    stay in memory from one batch to the next: the next batch sees the calls of the one being
    written. That is safe because this run holds the agency's import lock for the whole run
    (``ledger.agency_session_lock``), so no other import changes the agency's pages meanwhile.
    Only the pages of the batch last worked out are kept: memory stays flat."""
    book = ledger.Book(ctx.agency.pk)
    seal = services.batch_sealer_for(ctx)
    switch = sys.getswitchinterval()
    # When the database answers, the writing thread should get the GIL back at once, not after
    # the default 5 ms.
    sys.setswitchinterval(SWITCH_INTERVAL)
    pending: tuple[services.Prepared, producer.Batch] | None = None
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="intake-prepare") as pool:
            while True:
                item = _next(source)
                future = None
                if isinstance(item, producer.Batch):
                    buckets = set(item.others.buckets) | {c.bucket for c in item.calls}
                    book.load(buckets)
                    future = pool.submit(
                        _prepare_without_database,
                        ctx=ctx,
                        book=book,
                        others=item.others,
                        calls=item.calls,
                        rejected=len(item.rejects),
                        rows_consumed=item.consumed,
                        bytes_done=item.bytes_done,
                        seal=seal,
                    )
                if pending is not None:
                    _write(ctx, run, pending, rejects, progress, file_size)
                    pending = None
                if future is None:
                    assert isinstance(item, producer.End)
                    if progress:
                        progress(item.consumed, file_size, file_size)
                    return item.notes
                assert isinstance(item, producer.Batch)
                pending = (future.result(), item)
                # Worked out: the batch's calls and entries are no longer needed (the prepared
                # batch keeps what it writes), so they are freed before the next one arrives.
                item.calls, item.others = [], producer.Others()
                book.keep(buckets)
    finally:
        sys.setswitchinterval(switch)


def _prepare_without_database(**kw: Any) -> services.Prepared:
    """``services.import_batch_prepare`` on the preparing thread, where any database access is
    a defect (it would run outside the batch's transaction): refused loudly."""

    def refuse(*args: Any) -> Any:
        raise RuntimeError("the import's preparing thread must not use the database")

    with connection.execute_wrapper(refuse):
        return services.import_batch_prepare(**kw)


def _write(
    ctx: services.ImportContext,
    run: ImportRun,
    pending: tuple[services.Prepared, producer.Batch],
    rejects: RejectFile,
    progress: Progress | None,
    file_size: int,
) -> None:
    prep, item = pending
    for rejected in item.rejects:
        rejects.add(rejected)
    services.import_batch_write(ctx=ctx, run=run, prep=prep, reject_bytes=rejects.flush())
    if progress and not item.tail:
        progress(item.consumed, item.bytes_done, file_size)
