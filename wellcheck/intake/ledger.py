"""The importer's ledger: pages of packed entries, one page per bucket of incident numbers.

An entry is one dispatch call seen: ``key`` (keyed 64-bit key of the call's incident number,
``parse.entry_key``), ``val`` (for a check, 64 bits of the keyed digest of its values: what tells
a changed row; empty for other calls), ``group`` (category,
call type, beat, local day: the count group the call is counted in) and ``flags`` (``HAS_CHECK``:
a check was created for the call). A page holds the entries of one bucket (a keyed hash of the
incident number without its last digits, see ``parse.RowParser``), so the calls of one export,
numbered in sequence by dispatch, share a few pages: a batch of 50,000 calls reads and writes
about fifty rows instead of probing and inserting 50,000 rows of a uniquely indexed table.

Exactness does not depend on the bucketing: a key always maps to the same bucket, and inside a
page entries are matched by key. 64-bit keys collide only within a page (about a thousand calls):
the chance of any collision in a page is about 2^-44.

Page format (version 2, little-endian): ``<B B I I I`` version, wide, entry count, group count,
length of the string table; then the keys (8 bytes each), the flags (1 byte each; 0x80: a val
follows), the group indexes (uint16 each, uint32 if wide), the vals that are not empty (8 bytes
each, in entry order), the groups (4 indexes each, same width: category, call type, beat and
local day in the string table) and the string table (JSON list). About 17 bytes per other call.
"""

from __future__ import annotations

import json
import struct
import sys
import uuid
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db import DatabaseError, connection

from wellcheck.intake.bulk import copy_escape, hash_lock
from wellcheck.intake.models import CallCount, LedgerPage
from wellcheck.intake.parse import NO_VAL, Group

if TYPE_CHECKING:
    from wellcheck.intake.producer import Others

VERSION = 2
HAS_CHECK = 1
_STORED_VAL = 0x80  # in a stored flags byte: the entry's val follows (not empty)
_HEAD = struct.Struct("<BBIII")
Entry = tuple[bytes, Group, int]  # val, group, flags


class LedgerError(Exception):
    pass


class NewPage:
    """A page that had no entry before this batch, as the batch's columns: no object per entry
    (most pages of an export imported for the first time). Entries the batch adds later (checks,
    repaired rows) are kept in ``extra``; changing a columnar entry turns the page into a dict
    (:meth:`Book.put`). Every columnar entry is an other call (empty val, no check)."""

    __slots__ = ("keys", "gids", "table", "extra", "strings")

    def __init__(
        self, keys: bytes, gids: Any, table: list[Group], strings: TableStrings | None = None
    ) -> None:
        self.keys, self.gids, self.table = keys, gids, table
        self.extra: dict[bytes, Entry] = {}
        self.strings = strings or TableStrings(table)

    def find(self, key: bytes) -> int:
        keys = self.keys
        i = keys.find(key)
        while i != -1 and i % 8:
            i = keys.find(key, i + 1)
        return -1 if i == -1 else i // 8

    def get(self, key: bytes, default: Entry | None = None) -> Entry | None:
        entry = self.extra.get(key)
        if entry is not None:
            return entry
        i = self.find(key)
        return default if i < 0 else (NO_VAL, self.table[int(self.gids[i])], 0)

    def __len__(self) -> int:
        return len(self.gids) + len(self.extra)

    def to_dict(self) -> dict[bytes, Entry]:
        keys, table = self.keys, self.table
        out = {
            keys[8 * i : 8 * i + 8]: (NO_VAL, table[g], 0) for i, g in enumerate(self.gids.tolist())
        }
        out.update(self.extra)
        return out


Page = dict[bytes, Entry] | NewPage


class TableStrings:
    """A batch's group table as string ids: ``parts[g]`` holds the ids in ``strings`` of group
    g's four strings. Made once per batch and shared by its new pages, so encoding a page maps
    its groups to its string table with numpy instead of a lookup per string."""

    __slots__ = ("parts", "strings")

    def __init__(self, table: list[Group]) -> None:
        ids: dict[str, int] = {}
        index = ids.setdefault
        flat = [index(x, len(ids)) for g in table for x in g]
        self.parts = np.array(flat, dtype=np.int64).reshape(-1, 4)
        self.strings = list(ids)


def _dense_unique(values: Any, bound: int) -> tuple[Any, Any]:
    """``np.unique(values, return_inverse=True)`` (inverse flattened) for integers in
    ``range(bound)``: a table of ``bound`` flags instead of a sort (a page's group and string ids
    index its batch's tables, a few thousand entries)."""
    flat = np.asarray(values, dtype=np.int64).reshape(-1)
    present = np.zeros(bound, dtype=bool)
    present[flat] = True
    uniq = np.flatnonzero(present)
    rank = np.cumsum(present, dtype=np.int64) - 1
    return uniq, rank[flat]


def _encode_new(page: NewPage) -> tuple[int, bytes, bytes, Any, bytes, Any, list[str]]:
    """A new page's columns: (entries, keys, flags, group index per entry, vals, four string ids
    per group, strings). Its table's groups and strings are mapped with numpy; the entries added
    to it (``extra``, a few per page) through dicts, their groups listed after the table's."""
    uniq, inverse = _dense_unique(page.gids, len(page.table))
    sids, local = _dense_unique(page.strings.parts[uniq], len(page.strings.strings))
    strings = [page.strings.strings[i] for i in sids.tolist()]
    parts = local.reshape(-1, 4)
    values = list(page.extra.values())
    if values:
        ids = {x: i for i, x in enumerate(strings)}
        string = ids.setdefault
        groups: dict[Group, int] = {}
        group = groups.setdefault
        first = len(uniq)
        extra_gidx = [group(v[1], first + len(groups)) for v in values]
        extra_parts = [string(x, len(ids)) for g in groups for x in g]
        strings = list(ids)
        inverse = np.concatenate([inverse, np.array(extra_gidx, dtype=np.int64)])
        parts = np.concatenate([parts.reshape(-1), np.array(extra_parts, dtype=np.int64)])
    flags = bytes(len(page.gids)) + bytes(
        [v[2] | (_STORED_VAL if v[0] != NO_VAL else 0) for v in values]
    )
    vals = b"".join([v[0] for v in values if v[0] != NO_VAL])
    n = len(page.gids) + len(values)
    return n, page.keys + b"".join(page.extra), flags, inverse, vals, parts, strings


def encode(page: Page) -> bytes:
    """A page's entries packed (format version 2, see the module's docstring)."""
    if isinstance(page, NewPage):
        n, keys, flags, gidx, vals, parts, strings = _encode_new(page)
        n_groups = len(parts) // 4 if parts.ndim == 1 else len(parts)
    else:
        groups: dict[Group, int] = {}
        index = groups.setdefault
        values = list(page.values())
        n = len(values)
        keys = b"".join(page)
        gidx = np.array([index(v[1], len(groups)) for v in values], dtype=np.int64)
        flags = bytes([v[2] | (_STORED_VAL if v[0] != NO_VAL else 0) for v in values])
        vals = b"".join([v[0] for v in values if v[0] != NO_VAL])
        ids: dict[str, int] = {}
        string = ids.setdefault
        parts = np.array([string(x, len(ids)) for g in groups for x in g], dtype=np.int64)
        strings = list(ids)
        n_groups = len(groups)
    wide = n_groups > 0xFFFF or len(strings) > 0xFFFF
    width = "<u4" if wide else "<u2"
    table = json.dumps(strings, separators=(",", ":")).encode()
    return b"".join(
        (
            _HEAD.pack(VERSION, wide, n, n_groups, len(table)),
            keys,
            flags,
            gidx.astype(width).tobytes(),
            vals,
            parts.astype(width).tobytes(),
            table,
        )
    )


def decode(blob: bytes) -> dict[bytes, Entry]:
    blob = bytes(blob)
    if not blob or blob[0] != VERSION:
        raise LedgerError(f"ledger page version {blob[:1]!r} is not known to this WellCheck")
    try:
        _, wide, n, n_groups, table_len = _HEAD.unpack_from(blob)
        at = _HEAD.size
        keys = blob[at : at + 8 * n]
        flags = blob[at + 8 * n : at + 9 * n]
        at += 9 * n
        kind = "I" if wide else "H"
        size = 4 if wide else 2
        gidx = array(kind)
        gidx.frombytes(blob[at : at + size * n])
        at += size * n
        stored = sum(1 for f in flags if f & _STORED_VAL)
        vals = blob[at : at + 8 * stored]
        at += 8 * stored
        parts = array(kind)
        parts.frombytes(blob[at : at + size * 4 * n_groups])
        at += size * 4 * n_groups
    except (struct.error, ValueError) as exc:
        raise LedgerError("ledger page is truncated") from exc
    if sys.byteorder != "little":  # pragma: no cover
        gidx.byteswap()
        parts.byteswap()
    if len(blob) != at + table_len:
        raise LedgerError("ledger page is truncated or has trailing bytes")
    strings = json.loads(blob[at:])
    groups = [
        (strings[parts[i]], strings[parts[i + 1]], strings[parts[i + 2]], strings[parts[i + 3]])
        for i in range(0, 4 * n_groups, 4)
    ]
    out: dict[bytes, Entry] = {}
    v = 0
    for i in range(n):
        f = flags[i]
        if f & _STORED_VAL:
            val = vals[v : v + 8]
            v += 8
        else:
            val = NO_VAL
        out[keys[i * 8 : i * 8 + 8]] = (val, groups[gidx[i]], f & ~_STORED_VAL)
    return out


class Book:
    """The pages one batch touches, read once, written back only if changed."""

    def __init__(self, agency_id: uuid.UUID) -> None:
        self.agency_id = agency_id
        self.pages: dict[int, Page] = {}
        self.dirty: set[int] = set()

    def load(self, buckets: Iterable[int]) -> None:
        wanted = sorted(set(buckets) - self.pages.keys())
        if not wanted:
            return
        for i in range(0, len(wanted), 500):
            part = wanted[i : i + 500]
            rows = LedgerPage.objects.filter(agency_id=self.agency_id, bucket__in=part).values_list(
                "bucket", "entries"
            )
            for bucket, blob in rows:
                self.pages[bucket] = decode(blob)
        for bucket in wanted:
            self.pages.setdefault(bucket, {})

    def page(self, bucket: int) -> Page:
        return self.pages[bucket]

    def put(self, bucket: int, key: bytes, entry: Entry, *, absent: bool = False) -> None:
        """Set an entry (a new page's columns turn into a dict if one of them changes).
        ``absent``: the caller has just looked the key up and not found it."""
        page = self.pages[bucket]
        if isinstance(page, NewPage):
            if absent or page.find(key) < 0:
                page.extra[key] = entry
                self.dirty.add(bucket)
                return
            page = self.pages[bucket] = page.to_dict()
        page[key] = entry
        self.dirty.add(bucket)

    def keep(self, buckets: set[int]) -> None:
        """Forget every page but ``buckets`` (they are read again from the database if needed)."""
        for bucket in list(self.pages):
            if bucket not in buckets:
                del self.pages[bucket]


@contextmanager
def agency_session_lock(agency_id: uuid.UUID) -> Iterator[None]:
    """PostgreSQL: hold the agency's import lock for a whole run (a session-level advisory lock
    on the key of ``bulk.lock_agency``, which it makes re-entrant): imports of one agency run
    one after another. Released at the end, or by PostgreSQL when the process dies."""
    key = hash_lock(agency_id)
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s)", [key])
    try:
        yield
    finally:
        try:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", [key])
        except DatabaseError:  # a broken connection: its session's locks went with it
            pass


def write_pages(agency_id: uuid.UUID, pages: list[tuple[int, bytes, int]]) -> None:
    """Upsert encoded pages (bucket, entries, number of entries)."""
    if not pages:
        return
    table = connection.ops.quote_name(LedgerPage._meta.db_table)
    if connection.vendor == "postgresql":
        # One statement for the batch's pages, their columns as arrays bound in binary (a
        # server-side binding cursor on Django's connection, in its transaction): PostgreSQL
        # parses one statement per batch instead of one per page, each with its page as a hex
        # literal of some 32 KB (about 0.15 s of server time per million calls).
        import psycopg

        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cur:
            cur.execute(
                f"INSERT INTO {table} (agency_id, bucket, entries, calls) "  # noqa: S608
                "SELECT %b, b, e, n FROM unnest(%b::bigint[], %b::bytea[], %b::integer[]) "
                "AS p (b, e, n) ON CONFLICT (agency_id, bucket) "
                "DO UPDATE SET entries = EXCLUDED.entries, calls = EXCLUDED.calls",
                [
                    agency_id,
                    [b for b, _, _ in pages],
                    [e for _, e, _ in pages],
                    [n for _, _, n in pages],
                ],
            )
        return
    agency = agency_id.hex
    with connection.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {table} (agency_id, bucket, entries, calls) "  # noqa: S608
            "VALUES (%s, %s, %s, %s) ON CONFLICT (agency_id, bucket) "
            "DO UPDATE SET entries = EXCLUDED.entries, calls = EXCLUDED.calls",
            [(agency, b, e, n) for b, e, n in pages],
        )


def apply_others(
    book: Book, others: Others, deltas: Counter[Group], touched: set[Any]
) -> tuple[int, int]:
    """Apply a batch's fast entries (each the first occurrence of its key in the batch) to the
    loaded pages: a new key is added and counted, an unchanged one skipped, a changed one moves
    between count groups. Returns (new calls, changed calls that had a check: kept).

    Entries are taken page by page; a page with no entry yet (most pages of an export imported
    for the first time) takes the batch's columns as they are (:class:`NewPage`)."""
    n = len(others)
    if not n:
        return 0, 0
    pages, dirty = book.pages, book.dirty
    table, marks = others.group_table, others.mark_table
    kb, vb = bytes(others.keys), bytes(others.vals)
    columnar = not any(vb)  # other calls' vals are empty (parse.NO_VAL)
    keys: list[bytes] | None = None
    vals: list[bytes] = []
    gid_of = np.frombuffer(others.groups, dtype=np.uint32)
    bucket_of = np.frombuffer(others.buckets, dtype=np.int64)
    order = np.argsort(bucket_of, kind="stable")
    ends = [*(np.flatnonzero(np.diff(bucket_of[order])) + 1).tolist(), n]
    is_new = np.zeros(n, dtype=bool)
    strings: TableStrings | None = None
    kept = 0
    start = 0
    for end in ends:
        rows = order[start:end]
        bucket = int(bucket_of[rows[0]])
        start = end
        page = pages[bucket]
        if not page and columnar:
            rows_sorted = np.sort(rows)
            page_keys = np.frombuffer(kb, dtype=np.uint64)[rows_sorted].tobytes()
            if strings is None:
                strings = TableStrings(table)
            pages[bucket] = NewPage(page_keys, gid_of[rows_sorted], table, strings)
            is_new[rows] = True
            dirty.add(bucket)
            continue
        if keys is None:
            keys = [kb[i : i + 8] for i in range(0, 8 * n, 8)]
            vals = [NO_VAL] * n if columnar else [vb[i : i + 8] for i in range(0, 8 * n, 8)]
        if isinstance(page, NewPage):
            page = pages[bucket] = page.to_dict()
        for i in rows.tolist():
            key, val, group = keys[i], vals[i], table[gid_of[i]]
            old = page.get(key)
            if old is None:
                page[key] = (val, group, 0)
                is_new[i] = True
                dirty.add(bucket)
                continue
            if old[0] == val and old[1] == group:
                continue
            if old[2]:
                kept += 1
            if old[1] != group:
                deltas[old[1]] -= 1
                deltas[group] += 1
                touched.add(old[1][3])
            touched.add(marks[others.marks[i]])
            page[key] = (val, group, old[2])
            dirty.add(bucket)
    gids = np.frombuffer(others.groups, dtype=np.uint32)[is_new]
    per_group = np.bincount(gids, minlength=len(table))
    for g in np.flatnonzero(per_group).tolist():
        deltas[table[g]] += int(per_group[g])
    mids = np.unique(np.frombuffer(others.marks, dtype=np.uint32)[is_new])
    touched.update(marks[m] for m in mids.tolist())
    return int(is_new.sum()), kept


def count_text(agency_id: uuid.UUID, deltas: Counter[Group]) -> str:
    """The COPY text of :func:`add_counts` (PostgreSQL), made ahead on the preparing thread:
    one line per (category, beat, day) with its call types' non-zero deltas as a JSON object
    and their sum. The object's keys are left in the order met: ``jsonb`` stores its keys in
    an order of its own, so the stored value does not depend on it (sorting cost a third more)."""
    esc: dict[str, str] = {}  # a batch has a few hundred distinct codes

    def text(x: str) -> str:
        t = esc.get(x)
        if t is None:
            t = esc[x] = copy_escape(x)
        return t

    # Each call type (a few dozen) as a JSON string, escaped for COPY.
    keys = {t: copy_escape(json.dumps(t)) for t in {g[1] for g in deltas}}
    rows: dict[tuple[str, str, str], list[Any]] = {}  # [sum, "key:delta", ...]
    for (category, call_type, unit_code, day), n in deltas.items():
        if n:
            at = (category, unit_code, day)
            row = rows.get(at)
            if row is None:
                rows[at] = [n, f"{keys[call_type]}:{n}"]
            else:
                row[0] += n
                row.append(f"{keys[call_type]}:{n}")
    tail = f"\t{agency_id}\n"
    return "".join(
        [
            f"{text(c)}\t{text(u)}\t{d}\t{row[0]}\t{{{','.join(row[1:])}}}{tail}"
            for (c, u, d), row in rows.items()
        ]
    )


def add_counts(agency_id: uuid.UUID, deltas: Counter[Group], text: str | None = None) -> None:
    """Append one row per (category, beat, day) with the deltas of its call types and their sum
    (``CallCount`` is a log: a count is the sum of its rows). PostgreSQL: one COPY (of ``text``
    if given: :func:`count_text`); SQLite: one ``executemany``."""
    counts = connection.ops.quote_name(CallCount._meta.db_table)
    columns = "category, unit_code, day, calls, call_types, agency_id"
    if connection.vendor != "postgresql":
        maps: dict[tuple[str, str, str], dict[str, int]] = {}
        for (category, call_type, unit_code, day), n in deltas.items():
            if n:
                maps.setdefault((category, unit_code, day), {})[call_type] = n
        rows = [
            (
                *at,
                sum(m.values()),
                json.dumps(m, sort_keys=True, separators=(",", ":")),
                agency_id.hex,
            )
            for at, m in maps.items()
        ]
        if rows:
            with connection.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO {counts} ({columns}) VALUES (%s, %s, %s, %s, %s, %s)",  # noqa: S608
                    rows,
                )
        return
    if text is None:
        text = count_text(agency_id, deltas)
    if not text:
        return
    with connection.cursor() as cur:
        with cur.cursor.copy(f"COPY {counts} ({columns}) FROM STDIN") as copy:
            copy.write(text)
