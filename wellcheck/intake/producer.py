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
from itertools import repeat
from pathlib import Path
from typing import Any

from django.db import connection

from wellcheck.intake import fastcsv
from wellcheck.intake.parse import NO_VAL, OTHER, Call, Group, Rejected, RowParser
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
AHEAD = 1  # batches received and waiting for the writer, at most


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
    vectorised: bool = True  # regular blocks through intake.fastcsv (False: Python reader only)
    # Makes the checks' rows of a batch's calls ahead (intake.services.render_checks), here in
    # the parsing process, off the writer's process; None: the writer makes them.
    render: Callable[[list[Call]], None] | None = None


class _Batches:
    """Assembles batches of exactly ``size`` rows (so a resumed run cuts them where a clean run
    does) from the Python reader's rows and from the vectorised reader's blocks."""

    def __init__(
        self, job: Job, source: CsvSource, parser: RowParser, send: Callable[[Message], bool]
    ):
        self.job, self.source, self.parser, self.send = job, source, parser, send
        self.size, self.skip = job.batch_size, job.skip
        self.consumed = 0
        self._new()

    def _new(self) -> None:
        self.others, self.calls, self.rejects = Others(), [], []
        self.seen: set[bytes] = set()  # keys of this batch's rows (Python reader)
        # and of its vectorised rows: a sorted uint64 array of distinct keys (or None)
        self.seen_sorted: Any = None
        self.gmap: dict[Group, int] = {}
        self.mmap: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.others) + len(self.calls) + len(self.rejects)

    def flush(self, bytes_done: int, *, tail: bool = False) -> bool:
        if self.job.render is not None:
            self.job.render(self.calls)
        # No name holds the batch here: the parsing process's ``send`` frees its objects once
        # they are pickled, before it waits for room in the pipe.
        sent = self.send(self._take(bytes_done, tail))
        fastcsv.release_memory()
        return sent

    def _take(self, bytes_done: int, tail: bool) -> Batch:
        batch = Batch(self.others, self.calls, self.rejects, self.consumed, bytes_done, tail)
        self._new()
        return batch

    def add_fast(self, key: bytes, bucket: int, group: Group, mark: str) -> None:
        others = self.others
        others.keys += key
        others.vals += NO_VAL
        others.buckets.append(bucket)
        g = self.gmap.get(group)
        if g is None:
            g = self.gmap[group] = len(others.group_table)
            others.group_table.append(group)
        others.groups.append(g)
        m = self.mmap.get(mark)
        if m is None:
            m = self.mmap[mark] = len(others.mark_table)
            others.mark_table.append(mark)
        others.marks.append(m)

    def add_parsed(self, parsed: Call | Rejected) -> None:
        if isinstance(parsed, Rejected):
            self.rejects.append(parsed)
        else:
            self.calls.append(parsed)
            self.seen.add(parsed.page_key)

    def python_rows(self) -> bool:
        """The Python reader's rows from where it stands; False if the writer went away."""
        source, parser = self.source, self.parser
        fast = parser.fast if self.job.fast else None
        for values in source.values():
            self.consumed += 1
            if self.consumed <= self.skip:
                if values is not None and not parser._get(values, "incident_number"):
                    parser.parse(RawRow(source.line_num, values))  # derived-key occurrences
                continue
            got = fast(values) if fast is not None and values is not None else None
            if got is not None and got[0] not in self.seen and not self._seen_vectorised(got[0]):
                key, bucket, _, group, mark = got
                self.seen.add(key)
                self.add_fast(key, bucket, group, mark)
            else:
                self.add_parsed(parser.parse(source.raw(values)))
            if len(self) >= self.size and not self.flush(source.bytes_read):
                return False
        return True

    def _seen_vectorised(self, key: bytes) -> bool:
        if self.seen_sorted is None:
            return False
        import numpy as np

        return bool(_isin_sorted(np.frombuffer(key, dtype=np.uint64), self.seen_sorted)[0])

    def table_rows(self, vec: fastcsv.Vectors, table: Any, block: fastcsv.Block) -> bool:
        """A regular block's rows (see intake.fastcsv); False if the writer went away."""
        n, off = table.num_rows, 0
        if self.consumed < self.skip:
            off = min(self.skip - self.consumed, n)
            self._skipped(vec, table.slice(0, off), block.first_line)
            self.consumed += off
        while off < n:
            take = min(self.size - len(self), n - off)
            self._rows(vec, table.slice(off, take), block.first_line + off)
            self.consumed += take
            off += take
            if len(self) >= self.size:
                done = block.start + len(block.data) * off // n
                if not self.flush(done):
                    return False
        return True

    def _add_fast_rows(self, rows: Any, keys: Any, data: dict[str, Any]) -> None:
        """The fast entries of ``rows`` (a table's row indexes), added in bulk: keys, vals and
        buckets as bytes; count groups and marks through their distinct values."""
        import numpy as np

        others = self.others
        others.keys += keys[rows].tobytes()
        others.vals += bytes(8 * len(rows))
        others.buckets.frombytes(data["buckets"][rows].astype(np.int64).tobytes())
        entries = data["hour_entries"]
        days = sorted({e[0] for e in entries if e})
        day_no = {d: i for i, d in enumerate(days)}
        day_of_hour = np.array([day_no[e[0]] if e else 0 for e in entries], dtype=np.int64)
        hours = data["hour_idx"][rows]
        n_units, n_days = len(data["unit_vals"]), max(len(days), 1)
        code = (
            data["type_idx"][rows].astype(np.int64) * n_units + data["unit_idx"][rows]
        ) * n_days + day_of_hour[hours]
        uniq, inverse = np.unique(code, return_inverse=True)
        # The block's distinct groups, decoded with numpy and made into tuples at C speed; a
        # group gets the next id when the batch meets it first (``gmap`` and ``group_table``
        # grow together, so the next id is the map's size).
        rest, d = np.divmod(uniq, n_days)
        t, u = np.divmod(rest, n_units)
        groups = list(
            zip(
                repeat(OTHER),
                map(data["type_vals"].__getitem__, t.tolist()),
                map(data["unit_vals"].__getitem__, u.tolist()),
                map(days.__getitem__, d.tolist()),
            )
        )
        gmap, known = self.gmap, len(others.group_table)
        add = gmap.setdefault
        gids = [add(group, len(gmap)) for group in groups]
        if len(gmap) > known:
            others.group_table.extend(
                [group for group, g in zip(groups, gids, strict=True) if g >= known]
            )
        others.groups.frombytes(np.array(gids, dtype=np.uint32)[inverse].tobytes())
        mark_uniq, mark_inverse = np.unique(hours, return_inverse=True)
        mids = []
        for h in mark_uniq.tolist():
            mark = entries[h][1]
            m = self.mmap.get(mark)
            if m is None:
                m = self.mmap[mark] = len(others.mark_table)
                others.mark_table.append(mark)
            mids.append(m)
        others.marks.frombytes(np.array(mids, dtype=np.uint32)[mark_inverse].tobytes())

    def _skipped(self, vec: fastcsv.Vectors, table: Any, first_line: int) -> None:
        """Rows committed by an earlier run: only those without incident number are parsed,
        so the derived keys' occurrence counts go on exactly as in a clean run."""
        import numpy as np
        import pyarrow.compute as pc

        i_inc = self.parser._idx[3]
        if i_inc >= vec.ncols:
            idx = np.arange(table.num_rows)
        else:
            blank = pc.equal(pc.utf8_trim_whitespace(table.column(i_inc).combine_chunks()), "")
            idx = np.flatnonzero(blank.to_numpy(zero_copy_only=False))
        for i, values in zip(idx.tolist(), vec.rows(table, idx), strict=True):
            self.parser.parse(RawRow(first_line + i, values))

    def _rows(self, vec: fastcsv.Vectors, table: Any, first_line: int) -> None:
        import numpy as np

        fast, keys, data = vec.split(table)
        # The rows that take the full parse whatever their key are parsed first: a row the parse
        # rejects is no call, so its key does not make a later row with the same key a repeat
        # (the Python reader's keys so far are those of its fast entries and calls).
        parsed = self._parse(vec, table, first_line, np.flatnonzero(~fast), {})
        if keys is not None:
            keys = np.ascontiguousarray(keys)
            k64 = keys.view(np.uint64).reshape(-1)
            has = data.get("has_key")
            rejected = [i for i, row in parsed.items() if isinstance(row, Rejected)]
            if rejected:
                has = has.copy()
                has[rejected] = False
            known = np.zeros(len(k64), dtype=bool)
            if self.seen_sorted is not None:
                known = _isin_sorted(k64, self.seen_sorted)
            if self.seen:
                py = np.frombuffer(b"".join(self.seen), dtype=np.uint64)
                known |= np.isin(k64, py)
            with_key = np.flatnonzero(has)
            distinct, first = np.unique(k64[with_key], return_index=True)
            first_in_table = np.zeros(len(k64), dtype=bool)
            first_in_table[with_key[first]] = True
            keep = fast & first_in_table & ~known
            # Both runs are sorted: a stable sort of the two merges them in linear time.
            if self.seen_sorted is not None:
                distinct = np.sort(np.concatenate([self.seen_sorted, distinct]), kind="stable")
            self.seen_sorted = distinct
            if keep.any():
                self._add_fast_rows(np.flatnonzero(keep), keys, data)
            repeats = np.flatnonzero(fast & ~keep)
            if len(repeats):  # rows that could have been fast entries, but repeat a key
                parsed = dict(sorted(self._parse(vec, table, first_line, repeats, parsed).items()))
        for row in parsed.values():  # file order
            self.add_parsed(row)

    def _parse(
        self,
        vec: fastcsv.Vectors,
        table: Any,
        first_line: int,
        idx: Any,
        into: dict[int, Call | Rejected],
    ) -> dict[int, Call | Rejected]:
        """The full parse of a table's rows ``idx`` (in order), added to ``into`` by row."""
        if len(idx):
            for i, values in zip(idx.tolist(), vec.rows(table, idx), strict=True):
                into[i] = self.parser.parse(RawRow(first_line + i, values))
        return into


def _isin_sorted(keys: Any, sorted_keys: Any) -> Any:
    """``np.isin(keys, sorted_keys)`` for a sorted, non-empty ``sorted_keys``: a binary search
    per key instead of sorting both again (a batch's keys so far are searched once per block)."""
    import numpy as np

    pos = np.searchsorted(sorted_keys, keys)
    return sorted_keys[np.minimum(pos, len(sorted_keys) - 1)] == keys


def produce(job: Job, send: Callable[[Message], bool]) -> None:
    """Parse the file into batches and ``send`` them; stop when ``send`` returns False."""
    with CsvSource(job.path, job.profile) as source:
        parser = RowParser(job.profile, source.header, tally=job.tally, mark_zone=job.mark_zone)
        batches = _Batches(job, source, parser, send)
        python_rest = True
        if job.fast and job.vectorised and fastcsv.available(source):
            vec = fastcsv.Vectors(parser, source)
            for block in fastcsv.blocks(source):
                table = fastcsv.read_block(block, vec.ncols, job.profile.delimiter)
                if table is None or vec.irregular_rows(table):
                    source.restart_at(block.start, block.first_line - 1)
                    break
                if not batches.table_rows(vec, table, block):
                    return
            else:
                python_rest = False
        if python_rest and not batches.python_rows():
            return
        if len(batches) and not batches.flush(source.size, tail=True):
            return
        notes = list(source.notes.notes)
        if source.notes.junk_lines:
            notes.append(f"{source.notes.junk_lines} blank or junk line(s) skipped")
        if source.notes.repeated_headers:
            notes.append(f"{source.notes.repeated_headers} repeated header line(s) skipped")
        send(End(notes, batches.consumed))


PIPE_BYTES = 1 << 20  # Linux's default ceiling for an unprivileged pipe (fs.pipe-max-size)


def _widen(end: Any) -> None:
    """A pipe of ``PIPE_BYTES`` instead of 64 KiB: a batch (a few MB) crosses in a few reads
    by the receiving thread, each of which waits for the writer's GIL. Best effort."""
    try:
        import fcntl

        fcntl.fcntl(end.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
    except (ImportError, OSError):  # pragma: no cover (not Linux, or a lower ceiling)
        pass


class Producer:
    """``produce`` on a forked child process (a thread where ``fork`` is unavailable); the
    writer calls :meth:`get` for each message. A receiving thread takes each batch off the pipe
    as soon as there is room for it, so the child does not wait on a writer busy with the
    previous batch; at most ``AHEAD`` batches wait, unpickled (memory stays flat). The thread
    waits for that room *before* it reads the next batch off the pipe: a batch not yet taken
    stays in its compact, pickled form (in the pipe and the child), not as objects here."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self._proc: Any = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        if "fork" in multiprocessing.get_all_start_methods():
            ctx = multiprocessing.get_context("fork")
            self._recv, send_end = ctx.Pipe(duplex=False)
            _widen(send_end)
            self._proc = ctx.Process(
                target=_child, args=(job, send_end, self._recv), name="intake-parse", daemon=True
            )
            self._send_end = send_end
            self._received: queue.Queue[Message] = queue.Queue()
            self._room = threading.Semaphore(AHEAD)  # released by get(): a batch was taken
            self._pump = threading.Thread(target=self._receive, name="intake-receive", daemon=True)
        else:  # pragma: no cover (Linux has fork)
            self._queue: queue.Queue[Message] = queue.Queue(maxsize=1)
            self._thread = threading.Thread(target=self._thread_main, daemon=True)

    def start(self) -> None:
        if self._proc is not None:
            self._proc.start()
            self._send_end.close()  # the child's end: EOF here when the child dies
            self._pump.start()
        else:  # pragma: no cover
            assert self._thread is not None
            self._thread.start()

    def get(self) -> Message:
        if self._proc is None:  # pragma: no cover
            return self._queue.get()
        message = self._received.get()
        self._room.release()
        return message

    def _receive(self) -> None:
        """The receiving thread: each message off the pipe, until the last or the child's end."""
        while not self._stop.is_set():
            if not self._room.acquire(timeout=0.2):
                continue
            try:
                message = pickle.loads(self._recv.recv_bytes())  # noqa: S301 (our own child)
            except (EOFError, OSError):
                if self._stop.is_set():
                    return
                self._proc.join(timeout=5)
                message = Failed(
                    f"the parsing process ended unexpectedly (exit code {self._proc.exitcode})"
                )
            self._received.put(message)
            if not isinstance(message, Batch):
                return

    def close(self) -> None:
        self._stop.set()
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.terminate()
            self._proc.join(timeout=10)
            self._pump.join(timeout=10)
            self._recv.close()
        elif self._thread is not None:  # pragma: no cover
            self._thread.join(timeout=10)

    def _thread_main(self) -> None:  # pragma: no cover (Linux has fork)
        def send(message: Message) -> bool:
            return _put_until(self._queue, message, self._stop)

        try:
            produce(self.job, send)
        except BaseException as exc:  # handed to the writer, which raises it
            send(Failed(str(exc), exc))


def _put_until(to: queue.Queue[Message], message: Message, stop: threading.Event) -> bool:
    """Put ``message`` on a bounded queue, waiting for room until ``stop`` is set (then False)."""
    while not stop.is_set():
        try:
            to.put(message, timeout=0.2)
            return True
        except queue.Full:
            continue
    return False


def _refuse_database(*args: Any) -> Any:
    raise RuntimeError("the import's parsing process must not use the database")


def _child(job: Job, conn: Any, parent_end: Any) -> None:
    """The parsing process: parse and send until done, or until the writer goes away (killed
    even: the child closes its copy of the reading end, so a dead writer breaks the pipe)."""
    parent_end.close()

    def send(message: Message) -> bool:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        del message  # the last reference to a batch (see _Batches.flush): freed before the wait
        try:
            conn.send_bytes(data)
        except (BrokenPipeError, OSError):
            return False
        return True

    try:
        # The connection object is the writer's, inherited: a query from here would break it.
        with connection.execute_wrapper(_refuse_database):
            produce(job, send)
    except BaseException as exc:  # noqa: BLE001 (reported to the writer, which raises)
        try:
            error: BaseException | None = exc
            pickle.dumps(exc)
        except Exception:  # noqa: BLE001
            error = None
        # No exception text here: it could quote a row (a consent-only agency keeps none).
        where = "".join(traceback.format_tb(exc.__traceback__))
        send(Failed(f"{type(exc).__name__} in the parsing process\n{where}", error))
    finally:
        conn.close()
        os._exit(0)  # no atexit handlers, no finalisers of the parent's objects
