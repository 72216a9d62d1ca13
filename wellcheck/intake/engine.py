"""The streaming import: read, parse, write in batches, report progress.

Memory is flat: one batch of parsed rows at a time (``batch_size``). Each batch commits on its
own (see ``intake.services``), and the reject lines of a batch are flushed to the reject file
before the batch commits; on resume the reject file is cut back to the size recorded with the last
committed batch, so it too ends exactly as after one clean run.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import queue
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.db import connection

from wellcheck.accounts.models import Agency, RecordPolicy, User
from wellcheck.core.errors import ServiceError
from wellcheck.intake import services
from wellcheck.intake.models import ImportRun, RunStatus
from wellcheck.intake.parse import Call, FastOthers, Rejected, RowParser, ledger_key
from wellcheck.intake.profiles import Profile
from wellcheck.intake.reader import CsvSource, Refused

PREFLIGHT_ROWS = 1000
SWITCH_INTERVAL = 0.0005  # seconds
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
    batch_size: int = 10000,
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
    run = services.import_run_open(
        actor=actor,
        agency=agency,
        profile=profile,
        file_name=file_name or path.name,
        file_sha256=file_sha256(path),
        file_size=path.stat().st_size,
        batch_size=batch_size,
        reject_path=reject_path,
        run=run,
    )
    rejects = RejectFile(
        Path(run.reject_path) if run.reject_path else None,
        keep_bytes=run.reject_bytes if run.rows_done else 0,
        with_values=not tally,
    )
    try:
        notes = _stream(ctx, run, path, rejects, progress)
    except BaseException:
        rejects.close()
        if not isinstance(run, ImportRun) or run.pk is None:
            raise
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


@dataclass
class _Batch:
    calls: list[Call]
    fast: FastOthers
    rejects: list[Rejected]
    consumed: int
    bytes_done: int
    tail: bool = False  # the last, partial batch: progress is reported once at the end


@dataclass
class _End:
    notes: list[str]
    consumed: int


@dataclass
class _Failed:
    error: BaseException


class _Producer(threading.Thread):
    """Reads and parses the file into batches on its own thread, while the caller's thread
    writes the previous batch (the database works while Python parses; psycopg releases the
    GIL while it waits). Pure Python: no database access here. At most ``AHEAD`` batches wait."""

    AHEAD = 1

    def __init__(self, ctx: services.ImportContext, run: ImportRun, path: Path) -> None:
        super().__init__(name="intake-parse", daemon=True)
        self.ctx, self.path = ctx, path
        self.size, self.skip = run.batch_size, run.rows_done
        self.file_size = path.stat().st_size
        self.queue: queue.Queue[_Batch | _End | _Failed] = queue.Queue(maxsize=self.AHEAD)
        self.stop = threading.Event()
        # The fast path for other calls writes staging lines for PostgreSQL's COPY.
        self.fast_path = connection.vendor == "postgresql"
        from wellcheck.insights.rollups import agency_zone

        self.mark_zone = agency_zone(ctx.agency.pk)
        self.header: Any = None

    def _put(self, item: _Batch | _End | _Failed) -> bool:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # handed to the writing thread, which raises it
            self._put(_Failed(exc))

    def _run(self) -> None:
        ctx, size, skip = self.ctx, self.size, self.skip
        with CsvSource(self.path, ctx.profile) as source:
            parser = RowParser(
                ctx.profile, source.header, tally=ctx.tally, mark_zone=self.mark_zone
            )
            self.header = source.header
            consumed = 0
            calls: list[Call] = []
            rejects: list[Rejected] = []
            fast = self._new_fast()
            seen: set[str] = set()  # ledger keys of this batch
            parse_other = parser.parse_other if self.fast_path else None
            for raw in source.rows():
                consumed += 1
                if consumed <= skip:
                    if not raw.error and not parser._get(raw.values, "incident_number"):
                        parser.parse(raw)  # keeps the derived-key occurrence counts identical
                    continue
                got = parse_other(raw) if parse_other is not None else None
                if got is not None and got[0] not in seen:
                    seen.add(got[0])
                    fast.keys.append(got[0])
                    fast.lines.append(got[1])
                    fast.rows.append(raw)
                else:
                    parsed = parser.parse(raw)
                    if isinstance(parsed, Rejected):
                        rejects.append(parsed)
                    else:
                        calls.append(parsed)
                        seen.add(ledger_key(parsed.source_key))
                if len(calls) + len(fast) + len(rejects) >= size:
                    batch = _Batch(calls, fast, rejects, consumed, source.bytes_read)
                    if not self._put(batch):
                        return
                    calls, rejects, fast, seen = [], [], self._new_fast(), set()
            if calls or fast or rejects:
                if not self._put(_Batch(calls, fast, rejects, consumed, source.size, tail=True)):
                    return
            notes = list(source.notes.notes)
            if source.notes.junk_lines:
                notes.append(f"{source.notes.junk_lines} blank or junk line(s) skipped")
            if source.notes.repeated_headers:
                notes.append(f"{source.notes.repeated_headers} repeated header line(s) skipped")
            self._put(_End(notes, consumed))

    def _new_fast(self) -> FastOthers:
        return FastOthers(parser=self._reparser) if self.fast_path else FastOthers()

    @property
    def _reparser(self) -> RowParser:
        # The writing thread's own parser (same profile and header), for rows parsed again.
        if not hasattr(self, "_reparser_obj"):
            self._reparser_obj = RowParser(
                self.ctx.profile, self.header, tally=self.ctx.tally, mark_zone=self.mark_zone
            )
        return self._reparser_obj


def _stream(
    ctx: services.ImportContext,
    run: ImportRun,
    path: Path,
    rejects: RejectFile,
    progress: Progress | None,
) -> list[str]:
    producer = _Producer(ctx, run, path)
    switch = sys.getswitchinterval()
    # The writing thread mostly waits for the database; when an answer arrives it should get
    # the GIL back from the parsing thread at once, not after the default 5 ms.
    sys.setswitchinterval(SWITCH_INTERVAL)
    producer.start()
    try:
        while True:
            item = producer.queue.get()
            if isinstance(item, _Failed):
                raise item.error
            if isinstance(item, _End):
                if progress:
                    progress(item.consumed, producer.file_size, producer.file_size)
                return item.notes
            for rejected in item.rejects:
                rejects.add(rejected)
            _commit(
                ctx,
                run,
                item.calls,
                len(item.rejects),
                item.consumed,
                item.bytes_done,
                rejects,
                item.fast,
            )
            if progress and not item.tail:
                progress(item.consumed, item.bytes_done, producer.file_size)
    finally:
        producer.stop.set()
        producer.join()
        sys.setswitchinterval(switch)


def _commit(
    ctx: services.ImportContext,
    run: ImportRun,
    calls: list[Call],
    rejected: int,
    consumed: int,
    bytes_done: int,
    rejects: RejectFile,
    fast: FastOthers | None = None,
) -> None:
    reject_bytes = rejects.flush()
    services.import_batch_apply(
        ctx=ctx,
        run=run,
        calls=calls,
        rejected=rejected,
        rows_consumed=consumed,
        bytes_done=bytes_done,
        reject_bytes=reject_bytes,
        fast=fast,
    )
