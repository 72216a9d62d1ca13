"""Reading and parsing an export into batches, in a process of its own.

The import is CPU-bound Python on both sides: parsing (CSV, keyed hashes) and writing (checks,
encryption, the ledger). In one process they would share one core under the GIL; here the
parsing runs in a child process (``fork``: it inherits the loaded profile and keys, and never
touches the database), one batch ahead of the writer, and hands each batch over a pipe.

A batch's "other" calls that need no repair (most of a file) travel as columns
(:class:`Others`: packed keys, vals, buckets and indexes into a small group table), not as
Python objects, so handing them over costs a memory copy, not a pickle per row. Every other row
travels as a parsed ``Call`` or a ``Rejected``.

Order: each fast entry is the first occurrence of its key in the batch (a key seen again in the
batch, or first seen in a ``Call``, takes the full parse), so the writer applies the fast
entries first and then the calls in file order with exactly the effect of file order.

Where ``fork`` is not available, the same loop runs on a thread.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
import threading
import traceback
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wellcheck.intake.parse import Call, Group, Rejected, RowParser
from wellcheck.intake.profiles import Profile
from wellcheck.intake.reader import CsvSource, RawRow


@dataclass
class Others:
    """The fast entries of a batch, as columns (see :meth:`RowParser.fast`)."""

    keys: bytearray = field(default_factory=bytearray)  # 8 bytes each
    vals: bytearray = field(default_factory=bytearray)  # 8 bytes each
    buckets: array[int] = field(default_factory=lambda: array("q"))
    groups: array[int] = field(default_factory=lambda: array("I"))  # into group_table
    marks: array[int] = field(default_factory=lambda: array("I"))  # into mark_table
    group_table: list[Group] = field(default_factory=list)
    mark_table: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.buckets)


@dataclass
class Batch:
    others: Others
    calls: list[Call]  # file order
    rejects: list[Rejected]
    consumed: int
    bytes_done: int
    tail: bool = False  # the last, partial batch: progress is reported once at the end

    def __len__(self) -> int:
        return len(self.others) + len(self.calls) + len(self.rejects)


@dataclass
class End:
    notes: list[str]
    consumed: int


@dataclass
class Failed:
    message: str
    error: BaseException | None = None


Message = Batch | End | Failed


@dataclass
class Job:
    """What the parsing side needs: no database object."""

    path: Path
    profile: Profile
    tally: bool
    mark_zone: Any
    batch_size: int
    skip: int  # rows already committed by an earlier, interrupted run
    fast: bool  # False: every row takes the full parse (ledger rows from before 0005)


def produce(job: Job, send: Callable[[Message], bool]) -> None:
    """Parse the file into batches and ``send`` them; stop when ``send`` returns False."""
    size, skip = job.batch_size, job.skip
    with CsvSource(job.path, job.profile) as source:
        parser = RowParser(job.profile, source.header, tally=job.tally, mark_zone=job.mark_zone)
        fast = parser.fast if job.fast else None
        consumed = 0
        others, calls, rejects = Others(), [], []
        seen: set[bytes] = set()  # keys of this batch
        gmap: dict[Group, int] = {}
        mmap: dict[str, int] = {}
        for values in source.values():
            consumed += 1
            if consumed <= skip:
                if values is not None and not parser._get(values, "incident_number"):
                    parser.parse(RawRow(source.line_num, values))  # derived-key occurrences
                continue
            got = fast(values) if fast is not None and values is not None else None
            if got is not None and got[0] not in seen:
                key, bucket, val, group, mark = got
                seen.add(key)
                others.keys += key
                others.vals += val
                others.buckets.append(bucket)
                g = gmap.get(group)
                if g is None:
                    g = gmap[group] = len(others.group_table)
                    others.group_table.append(group)
                others.groups.append(g)
                m = mmap.get(mark)
                if m is None:
                    m = mmap[mark] = len(others.mark_table)
                    others.mark_table.append(mark)
                others.marks.append(m)
            else:
                parsed = parser.parse(source.raw(values))
                if isinstance(parsed, Rejected):
                    rejects.append(parsed)
                else:
                    calls.append(parsed)
                    seen.add(parsed.page_key)
            if len(others) + len(calls) + len(rejects) >= size:
                if not send(Batch(others, calls, rejects, consumed, source.bytes_read)):
                    return
                others, calls, rejects = Others(), [], []
                seen, gmap, mmap = set(), {}, {}
        if len(others) or calls or rejects:
            if not send(Batch(others, calls, rejects, consumed, source.size, tail=True)):
                return
        notes = list(source.notes.notes)
        if source.notes.junk_lines:
            notes.append(f"{source.notes.junk_lines} blank or junk line(s) skipped")
        if source.notes.repeated_headers:
            notes.append(f"{source.notes.repeated_headers} repeated header line(s) skipped")
        send(End(notes, consumed))


class Producer:
    """``produce`` on a forked child process (a thread where ``fork`` is unavailable); the
    writer calls :meth:`get` for each message. At most one batch waits."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self._proc: Any = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        if "fork" in multiprocessing.get_all_start_methods():
            ctx = multiprocessing.get_context("fork")
            self._recv, send_end = ctx.Pipe(duplex=False)
            self._proc = ctx.Process(
                target=_child, args=(job, send_end, self._recv), name="intake-parse", daemon=True
            )
            self._send_end = send_end
        else:  # pragma: no cover (Linux has fork)
            self._queue: queue.Queue[Message] = queue.Queue(maxsize=1)
            self._thread = threading.Thread(target=self._thread_main, daemon=True)

    def start(self) -> None:
        if self._proc is not None:
            self._proc.start()
            self._send_end.close()  # the child's end: EOF here when the child dies
        else:  # pragma: no cover
            assert self._thread is not None
            self._thread.start()

    def get(self) -> Message:
        if self._proc is None:  # pragma: no cover
            return self._queue.get()
        try:
            return pickle.loads(self._recv.recv_bytes())  # noqa: S301 (our own child)
        except EOFError:
            self._proc.join(timeout=5)
            return Failed(
                f"the parsing process ended unexpectedly (exit code {self._proc.exitcode})"
            )

    def close(self) -> None:
        self._stop.set()
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.terminate()
            self._proc.join(timeout=10)
            self._recv.close()
        elif self._thread is not None:  # pragma: no cover
            self._thread.join(timeout=10)

    def _thread_main(self) -> None:  # pragma: no cover (Linux has fork)
        def send(message: Message) -> bool:
            while not self._stop.is_set():
                try:
                    self._queue.put(message, timeout=0.2)
                    return True
                except queue.Full:
                    continue
            return False

        try:
            produce(self.job, send)
        except BaseException as exc:  # handed to the writer, which raises it
            send(Failed(str(exc), exc))


def _child(job: Job, conn: Any, parent_end: Any) -> None:
    """The parsing process: parse and send until done, or until the writer goes away (killed
    even: the child closes its copy of the reading end, so a dead writer breaks the pipe)."""
    parent_end.close()

    def send(message: Message) -> bool:
        try:
            conn.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
        except (BrokenPipeError, OSError):
            return False
        return True

    try:
        produce(job, send)
    except BaseException as exc:  # noqa: BLE001 (reported to the writer, which raises)
        try:
            error: BaseException | None = exc
            pickle.dumps(exc)
        except Exception:  # noqa: BLE001
            error = None
        send(Failed(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}", error))
    finally:
        conn.close()
        os._exit(0)  # no atexit handlers, no finalisers of the parent's objects
