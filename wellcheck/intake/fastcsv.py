"""The importer's vectorised reading: pyarrow's CSV reader and compute kernels, numpy, and one
AES call per block for the ledger keys, instead of Python code per row.

A file is read in blocks of whole lines. A block is handed to pyarrow only when it is *regular*:
every physical line is one row with the header's number of fields (so no quoted line break), no
lone carriage return, valid UTF-8, no blank row, no repeated header. Then row ``i`` of the block
is physical line ``first + i``, exactly as Python's csv module reads it. The first irregular
block, and everything after it, is read by the Python reader (``CsvSource.restart_at``), which
handles every repair (``intake.reader``).

In a regular block, the rows that :meth:`RowParser.fast` would accept are found with column
operations (the same tests, on each distinct hour, call type and beat once), their ledger
entries computed in bulk; every other row is handed to :meth:`RowParser.parse` with its line
number and values. Tests hold this path to the same batches, entries, calls and rejects as the
Python path on the three real files, generated files, edge rows and irregular files.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from wellcheck.intake.parse import SUFFIX_MAX, RowParser, entry_block, page_hash
from wellcheck.intake.reader import CsvSource

BLOCK = 2 << 20
SUFFIX_CACHE_LIMIT = 100_000
_NO_FIT = bytes(8)  # in place of a suffix too long for a block (its row has no key here)
_TIME = r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:[0-5]\d:[0-5]\d$"

try:  # optional: without them every row takes the Python reader
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv
except ImportError:  # pragma: no cover
    np = pa = pc = pcsv = None

if pa is not None and "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
    # The C library's allocator, not pyarrow's bundled jemalloc: with jemalloc the parsing
    # process held about 30 MB more at the same speed within noise (measured on 1M rows, see
    # docs/performance.md). An operator's ARROW_DEFAULT_MEMORY_POOL is left alone.
    pa.set_memory_pool(pa.system_memory_pool())


def release_memory() -> None:
    """Hand the memory pyarrow's allocator keeps for reuse back to the system (once a batch is
    sent): the parsing process's memory stays that of one block and one batch."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def available(source: CsvSource) -> bool:
    p = source.profile
    if pa is None or p.encoding.replace("-", "").lower() not in ("utf8", "utf_8"):
        return False
    first = source.header.names[0].strip() if source.header.names else ""
    return len(p.delimiter) == 1 and first.isascii() and p.delimiter not in '"\r\n'


@dataclass
class Block:
    first_line: int  # physical line number of the block's first row
    start: int  # byte offset of the block in the file
    data: bytes
    newlines: int = -1  # line feeds in ``data`` (counted once: ``blocks`` needs them too)
    lone_cr: bool = False  # a carriage return not followed by a line feed

    def __post_init__(self) -> None:
        if self.newlines < 0:
            self.newlines, self.lone_cr = _line_ends(self.data)


def blocks(source: CsvSource) -> Iterator[Block]:
    """The data part of the file in blocks of whole lines."""
    with source.path.open("rb") as fh:
        fh.seek(source.bom_bytes)
        head = b""
        lines = 0
        while lines < source.header.line:  # up to the end of the header line
            chunk = fh.readline()
            if not chunk:
                return
            head += chunk
            lines += 1
        if head.count(b"\r") != head.count(b"\r\n"):
            return  # a lone carriage return: the Python reader counts lines differently
        offset = source.bom_bytes + len(head)
        line = source.header.line + 1
        rest = b""
        while True:
            chunk = fh.read(BLOCK)
            data = rest + chunk
            if not data:
                return
            if chunk:
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    rest = data
                    continue
                data, rest = data[:cut], data[cut:]
            else:
                rest = b""
            newlines, lone_cr = _line_ends(data)
            yield Block(line, offset, data, newlines, lone_cr)
            line += newlines
            offset += len(data)
            if not chunk:
                return


def _line_ends(data: bytes) -> tuple[int, bool]:
    """(line feeds, whether a carriage return is not followed by a line feed). A lone carriage
    return makes a block irregular: Python's reader ends a line there, pyarrow does not. Quotes
    need no check: pyarrow and the csv module read a quote inside a field, after a closing
    quote, or doubled, the same way (tested), and a quoted line break breaks the row count.
    With numpy: one pass over the bytes for each, not three counts (CRLF files: 2.8 -> 0.6 ms
    per 2 MiB block)."""
    if np is None:  # pragma: no cover
        cr = data.count(b"\r")
        return data.count(b"\n"), bool(cr) and cr != data.count(b"\r\n")
    x = np.frombuffer(data, dtype=np.uint8)
    feeds = int(np.count_nonzero(x == 10))
    cr = np.flatnonzero(x == 13)
    if not len(cr):
        return feeds, False
    if cr[-1] + 1 >= len(x):
        return feeds, True
    return feeds, not bool((x[cr + 1] == 10).all())


def read_block(block: Block, width: int, delimiter: str) -> Any:
    """The block as a table of ``width`` string columns, or None if it is not regular."""
    data = block.data
    if block.lone_cr:
        return None
    invalid: list[Any] = []

    def handler(row: Any) -> str:
        invalid.append(row)
        return "skip"

    names = [f"c{i}" for i in range(width)]
    try:
        table = pcsv.read_csv(
            pa.py_buffer(data),
            read_options=pcsv.ReadOptions(column_names=names, use_threads=True),
            parse_options=pcsv.ParseOptions(
                delimiter=delimiter,
                newlines_in_values=False,
                ignore_empty_lines=False,
                invalid_row_handler=handler,
            ),
            convert_options=pcsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # invalid UTF-8 and the like
        return None
    lines = block.newlines + (0 if data.endswith(b"\n") else 1)
    if invalid or table.num_rows != lines:
        return None
    return table


def _col(table: Any, j: int) -> Any:
    """Column ``j`` as one array (a block's table may hold it in several chunks)."""
    return table.column(j).combine_chunks()


class Vectors:
    """The fast entries and the other rows of regular blocks, for one parser."""

    def __init__(self, parser: RowParser, source: CsvSource) -> None:
        self.p = parser
        self.header = source.header
        self.ncols = source.raw_width
        self.first = source.header.names[0].strip().casefold() if source.header.names else ""
        self._suffix_half: dict[str, bytes | None] = {}

    def _suffix_block(self, text: str) -> bytes | None:
        """The second half of :func:`parse.entry_block` for an incident number's suffix (padded
        suffix and its length), or None when the suffix does not fit a block."""
        cache = self._suffix_half
        if len(cache) >= SUFFIX_CACHE_LIMIT:
            cache.clear()
        raw = text.encode()
        half = entry_block(0, raw)[8:] if len(raw) <= SUFFIX_MAX else None
        cache[text] = half
        return half

    def irregular_rows(self, table: Any) -> bool:
        """Blank rows and repeated headers (the Python reader skips them): not handled here."""
        from wellcheck.intake.reader import norm_header

        col0 = pc.utf8_trim_whitespace(_col(table, 0))
        maybe_header = pc.equal(pc.utf8_lower(col0), self.first.lower())
        if pc.any(maybe_header).as_py():
            names = [norm_header(v) for v in self.header.names]
            for i in np.flatnonzero(maybe_header.to_numpy(zero_copy_only=False)):
                row = [_col(table, j)[int(i)].as_py() for j in range(self.ncols)]
                if (
                    row[0].strip().casefold() == self.first
                    and [norm_header(v) for v in row[: len(names)]] == names
                ):
                    return True
        empty = pc.equal(col0, "")
        if pc.any(empty).as_py():
            for i in np.flatnonzero(empty.to_numpy(zero_copy_only=False)):
                if not "".join(_col(table, j)[int(i)].as_py() for j in range(self.ncols)).strip():
                    return True
        return False

    def split(self, table: Any) -> tuple[Any, Any, dict[str, Any]]:
        """(fast mask, entry keys (n, 8) uint8 or None where not computable, entry data for the
        fast rows: buckets, group tuples per row, marks) for a regular table."""
        p = self.p
        n = table.num_rows
        i_time, i_type, i_unit, i_inc, _ = p._idx
        cols = self.ncols
        fast = np.ones(n, dtype=bool)
        if not p.fast_iso or i_time >= cols or i_type >= cols or i_inc >= cols:
            fast[:] = False
        for j in range(p.width, cols):  # columns past the header's names must be blank
            fast &= pc.equal(pc.utf8_trim_whitespace(_col(table, j)), "").to_numpy(
                zero_copy_only=False
            )
        if n and fast.any():
            time = pc.utf8_trim_whitespace(_col(table, i_time))
            fast &= pc.match_substring_regex(time, _TIME).to_numpy(zero_copy_only=False)
            hours = pc.utf8_slice_codeunits(time, 0, 13).dictionary_encode()
            hour_entries = [p._hours.get(h, False) for h in hours.dictionary.to_pylist()]
            hour_entries = [
                p._hour(h) if e is False else e
                for h, e in zip(hours.dictionary.to_pylist(), hour_entries, strict=True)
            ]
            hour_idx = hours.indices.to_numpy(zero_copy_only=False)
            fast &= np.array([e is not None for e in hour_entries], dtype=bool)[hour_idx]
            types = _col(table, i_type).dictionary_encode()
            type_vals = [
                p._types[t] if t in p._types else p._fast_type(t)
                for t in types.dictionary.to_pylist()
            ]
            type_idx = types.indices.to_numpy(zero_copy_only=False)
            fast &= np.array([v is not None for v in type_vals], dtype=bool)[type_idx]
            if i_unit < cols:
                units = _col(table, i_unit).dictionary_encode()
                unit_raw = units.dictionary.to_pylist()
                unit_idx = units.indices.to_numpy(zero_copy_only=False)
            else:
                unit_raw, unit_idx = [""], np.zeros(n, dtype=np.int32)
            unit_vals = [p._units[u] if u in p._units else p._fast_unit(u) for u in unit_raw]
            fast &= np.array([v is not None for v in unit_vals], dtype=bool)[unit_idx]
            if p._has_coords:
                fast &= self._coords_ok(table, fast)
        incident = pc.utf8_trim_whitespace(_col(table, i_inc)) if i_inc < cols else None
        keys = None
        data: dict[str, Any] = {}
        if incident is not None and n:
            keys, has_key, buckets = self._keys(incident)
            fast &= has_key
            data["has_key"] = has_key
        else:
            fast[:] = False
        if fast.any():
            data.update(
                buckets=buckets,
                type_idx=type_idx,
                type_vals=type_vals,
                unit_idx=unit_idx,
                unit_vals=unit_vals,
                hour_idx=hour_idx,
                hour_entries=hour_entries,
            )
        return fast, keys, data

    def _keys(self, incident: Any) -> tuple[Any, Any, Any]:
        """Entry keys (n, 8) uint8, whether each row has one (an incident number), and buckets
        (int64), as ``parse.entry_key`` computes them."""
        p = self.p
        drop = p._drop
        stems = (
            pc.utf8_slice_codeunits(incident, 0, -drop) if drop else incident
        ).dictionary_encode()
        bucket_of_stem = np.array(
            [
                p._buckets[s] if s in p._buckets else p._bucket(s)
                for s in stems.dictionary.to_pylist()
            ],
            dtype=np.int64,
        )
        buckets = bucket_of_stem[stems.indices.to_numpy(zero_copy_only=False)]
        if drop:
            suffixes = pc.utf8_slice_codeunits(incident, -drop, 1 << 30).dictionary_encode()
            suffix_texts = suffixes.dictionary.to_pylist()
            suffix_idx = suffixes.indices.to_numpy(zero_copy_only=False)
        else:
            suffix_texts, suffix_idx = [""], np.zeros(len(incident), dtype=np.int32)
        # A suffix's half of the block, cached: a file has few distinct suffixes (``drop``
        # characters: about a thousand), each met in almost every block.
        cache, half = self._suffix_half, self._suffix_block
        halves = [cache[t] if t in cache else half(t) for t in suffix_texts]
        parts = np.frombuffer(b"".join([h or _NO_FIT for h in halves]), dtype=np.uint8)
        parts = parts.reshape(-1, 8)
        fits = np.array([h is not None for h in halves], dtype=bool)
        has_key = pc.not_equal(incident, "").to_numpy(zero_copy_only=False)
        block = np.empty((len(buckets), 16), dtype=np.uint8)
        block[:, :8] = buckets.astype(">i8").view(np.uint8).reshape(-1, 8)
        block[:, 8:] = parts[suffix_idx]
        sealed = np.frombuffer(p._cipher.update(block.tobytes()), dtype=np.uint8)
        keys = sealed.reshape(-1, 16)[:, :8]
        wide = np.flatnonzero(has_key & ~fits[suffix_idx])
        if len(wide):
            # A suffix wider than a block (multi-byte characters): the key is a keyed hash of
            # the whole number, as parse.entry_key makes it; rare, so one row at a time.
            prefix = p._key_prefix
            texts = incident.take(pa.array(wide, type=pa.int64())).to_pylist()
            keys = keys.copy()
            keys[wide] = np.frombuffer(
                b"".join([page_hash(0, prefix + t) for t in texts]), dtype=np.uint8
            ).reshape(-1, 8)
        return keys, has_key, buckets

    def _coords_ok(self, table: Any, fast: Any) -> Any:
        p = self.p
        i_lat, i_lon = p.pos["latitude"], p.pos["longitude"]
        ok = np.ones(table.num_rows, dtype=bool)
        lats = _col(table, i_lat).to_pylist()
        lons = _col(table, i_lon).to_pylist()
        row = [""] * self.ncols
        for i in np.flatnonzero(fast).tolist():
            row[i_lat], row[i_lon] = lats[i], lons[i]
            warnings: list[str] = []
            p._coords(row, warnings)
            ok[i] = not warnings
        return ok

    @staticmethod
    def rows(table: Any, idx: Any) -> list[list[str]]:
        """The values of rows ``idx`` (in order), as the csv module gives them."""
        taken = table.take(pa.array(idx, type=pa.int64()))
        columns = [c.to_pylist() for c in taken.columns]
        return [list(r) for r in zip(*columns, strict=True)]
