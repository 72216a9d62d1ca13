"""Streaming CSV reading with the repairs real exports need.

Handles a UTF-8 byte-order mark and corrupted ones (a partial mark, or one mangled into
``ï»¿``), junk lines before the header, header spelling variants, repeated headers and blank lines
inside the file (concatenated daily files), and a trailing empty column. Refuses, before anything
is written, a file that is not text CSV or lacks a required column. Memory stays flat: rows are
yielded one at a time.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from wellcheck.intake.profiles import Profile

HEADER_SEARCH_LINES = 50
_BOMS = (b"\xef\xbb\xbf", b"\xc3\xaf\xc2\xbb\xc2\xbf")  # the mark, and the mark mojibaked
_NORM = re.compile(r"[\s_\-.]+")
csv.field_size_limit(1 << 20)


class Refused(Exception):
    """The file cannot be imported at all; nothing was written. The message says what and where."""


def norm_header(name: str) -> str:
    name = name.replace("\ufeff", "").replace("\ufffd", "").replace("ï»¿", "")
    return _NORM.sub("", name).casefold()


@dataclass
class Header:
    line: int
    names: list[str]
    positions: dict[str, int]  # profile field -> column index
    width: int


@dataclass
class FileNotes:
    """Repairs made to the file as a whole (reported as warnings)."""

    notes: list[str] = field(default_factory=list)
    junk_lines: int = 0
    repeated_headers: int = 0


@dataclass(slots=True)
class RawRow:
    line: int
    values: list[str]
    error: str = ""


def _strip_bom(fh: BinaryIO, notes: FileNotes) -> int:
    head = fh.read(16)
    skip = 0
    if head.startswith(_BOMS[0]):
        skip = 3
    elif head.startswith(_BOMS[1]):
        skip = 6
        notes.notes.append("line 1: a corrupted byte-order mark (ï»¿) was removed")
    else:
        while skip < len(head) and head[skip] in (0xEF, 0xBB, 0xBF):
            skip += 1
        if skip:
            notes.notes.append("line 1: a corrupted byte-order mark was removed")
    # A second mark after the first (files re-saved twice) is removed too.
    rest = head[skip:]
    if rest.startswith(_BOMS[0]):
        skip += 3
        notes.notes.append("line 1: a repeated byte-order mark was removed")
    fh.seek(skip)
    return skip


def sniff(path: Path) -> None:
    """Refuse what is plainly not a text CSV file."""
    try:
        with path.open("rb") as fh:
            head = fh.read(65536)
    except OSError as exc:
        raise Refused(f"Cannot read {path.name}: {exc.strerror}.") from exc
    if not head.strip():
        raise Refused(f"{path.name} is empty.")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Refused(f"{path.name} is UTF-16 text; save it as UTF-8 CSV and import again.")
    if b"\x00" in head or head.startswith((b"%PDF", b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise Refused(
            f"{path.name} is not a CSV text file (it looks binary: a spreadsheet, PDF, archive?). "
            "Export the calls as CSV and import again."
        )


def match_header(values: list[str], profile: Profile) -> dict[str, int] | None:
    """Positions of the profile's fields in a header row; None if a required one is missing."""
    normed = [norm_header(v) for v in values]
    positions: dict[str, int] = {}
    for fname, spellings in profile.columns.items():
        for spelling in spellings:
            target = norm_header(spelling)
            if target in normed:
                positions[fname] = normed.index(target)
                break
    if all(r in positions for r in profile.required):
        return positions
    return None


class CsvSource:
    """Open once, find the header, then iterate data rows from a given row index onwards."""

    def __init__(self, path: Path, profile: Profile) -> None:
        self.path = path
        self.profile = profile
        self.notes = FileNotes()
        self.error = ""
        sniff(path)
        self.size = path.stat().st_size
        self._raw = path.open("rb")
        self.bom_bytes = _strip_bom(self._raw, self.notes)
        self._line_base = 0
        text = io.TextIOWrapper(self._raw, encoding=profile.encoding, errors="replace", newline="")
        self._reader = csv.reader(text, delimiter=profile.delimiter)
        self.header = self._find_header()

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> CsvSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def bytes_read(self) -> int:
        try:
            return min(self.size, self._raw.tell())
        except (OSError, ValueError):
            return self.size

    def _find_header(self) -> Header:
        first: list[str] | None = None
        try:
            for values in self._reader:
                line = self._reader.line_num
                if first is None and any(v.strip() for v in values):
                    first = values
                positions = match_header(values, self.profile)
                if positions is not None:
                    self.raw_width = len(values)  # incl. trailing empty columns
                    names = list(values)
                    while names and not names[-1].strip():
                        names.pop()
                    if line > 1:
                        self.notes.junk_lines += line - 1
                        self.notes.notes.append(
                            f"lines 1-{line - 1}: {line - 1} junk line(s) before the header skipped"
                        )
                    return Header(line=line, names=names, positions=positions, width=len(names))
                if line >= HEADER_SEARCH_LINES:
                    break
        except csv.Error as exc:
            raise Refused(f"{self.path.name} is not readable as CSV: {exc}.") from exc
        wanted = [f"{f} ({' or '.join(self.profile.columns[f])})" for f in self.profile.required]
        seen = ", ".join(v.strip() for v in (first or []) if v.strip())[:300] or "nothing"
        raise Refused(
            f"{self.path.name}: no header with the columns the profile {self.profile.name!r} "
            f"requires: {'; '.join(wanted)}. The first line has: {seen}. "
            "Wrong profile, or a file that is not a calls-for-service export?"
        )

    def rows(self) -> Iterator[RawRow]:
        """Data rows after the header. Blank lines and repeated headers are skipped (counted)."""
        for values in self.values():
            yield self.raw(values)

    def raw(self, values: list[str] | None) -> RawRow:
        """The row :meth:`values` just yielded, with its line number (and error, for None)."""
        if values is None:
            return RawRow(self.line_num, [], self.error)
        return RawRow(self.line_num, values)

    @property
    def line_num(self) -> int:
        return self._reader.line_num + self._line_base

    def restart_at(self, offset: int, lines_before: int) -> None:
        """Read on from byte ``offset``, the start of physical line ``lines_before + 1`` (a row
        boundary), after a faster reader (``intake.fastcsv``) has consumed what comes before."""
        self._raw.close()
        self._raw = self.path.open("rb")
        self._raw.seek(offset)
        text = io.TextIOWrapper(
            self._raw, encoding=self.profile.encoding, errors="replace", newline=""
        )
        self._reader = csv.reader(text, delimiter=self.profile.delimiter)
        self._line_base = lines_before

    def values(self) -> Iterator[list[str] | None]:
        """The data rows' values after the header, or None for a broken CSV line (its message
        in ``error``). Blank lines and repeated headers are skipped (counted). The importer's hot
        loop: no object per row but the values list."""
        header_norm = [norm_header(v) for v in self.header.names]
        first = self.header.names[0].strip().casefold() if self.header.names else ""
        reader = self._reader
        width = len(header_norm)
        notes = self.notes
        while True:
            try:
                for values in reader:  # a for loop: no try/next per row
                    if not "".join(values).strip():  # all fields blank (one C call)
                        notes.junk_lines += 1
                        continue
                    if (
                        values[0].strip().casefold() == first
                        and len(values) >= width
                        and [norm_header(v) for v in values[:width]] == header_norm
                    ):
                        notes.repeated_headers += 1
                        continue
                    yield values
                return
            except csv.Error as exc:
                self.error = f"broken CSV line ({exc})"
                yield None
