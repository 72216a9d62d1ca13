"""Disclosure control for published two-way tables: primary and complementary cell suppression.

A table is published with its row totals, column totals and grand total. Together these form the
augmented (R+1) x (C+1) array whose every row and every column is a linear equation ("the cells of
this line add up to its total"). Rules:

1. **Primary suppression**: every entry (cell or total) with ``0 < value < threshold`` is hidden
   (default threshold 11). Zeros are published: they say nobody, and reveal no one.
2. **Complementary suppression**: while some hidden entry can be solved exactly from the published
   entries and the equations (tested with exact rational Gaussian elimination: the entry's unit
   vector lies in the row space of the equations over hidden entries), hide one more entry in the
   same line: the smallest non-zero published entry, interior cells before totals (a zero only
   when a line has nothing else). Non-zero complements let a hidden entry move both ways along a
   cycle of hidden entries, so non-negativity of counts does not pin it either.
3. If no such entry is left, hide the whole table (safe: then no equation has a known side).

Tests try to recover hidden entries from the margins (tests/transparency/).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

DEFAULT_THRESHOLD = 11
Entry = tuple[int, int]


@dataclass
class ProtectedTable:
    """An augmented table: ``values[i][j]``; row R holds column totals, column C row totals.

    ``hidden`` is the set of suppressed entries; ``published(i, j)`` is None for those.
    """

    values: list[list[int]]
    hidden: set[Entry] = field(default_factory=set)
    threshold: int = DEFAULT_THRESHOLD

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.values) - 1, len(self.values[0]) - 1

    def published(self, i: int, j: int) -> int | None:
        return None if (i, j) in self.hidden else self.values[i][j]


def augment(cells: list[list[int]]) -> list[list[int]]:
    """Cells plus a totals column and a totals row (the grand total in the corner)."""
    if not cells or not cells[0]:
        raise ValueError("A table needs at least one row and one column.")
    width = len(cells[0])
    if any(len(r) != width for r in cells):
        raise ValueError("Every row of a table must have the same number of cells.")
    if any(v < 0 for r in cells for v in r):
        raise ValueError("Counts cannot be negative.")
    rows = [[*r, sum(r)] for r in cells]
    totals = [sum(r[j] for r in rows) for j in range(width + 1)]
    return [*rows, totals]


def lines(shape: tuple[int, int]) -> list[list[tuple[Entry, int]]]:
    """The equations of an augmented table: each a list of (entry, coefficient), summing to 0."""
    r, c = shape
    eqs: list[list[tuple[Entry, int]]] = []
    for i in range(r + 1):
        eqs.append([((i, j), 1) for j in range(c)] + [((i, c), -1)])
    for j in range(c + 1):
        eqs.append([((i, j), 1) for i in range(r)] + [((r, j), -1)])
    return eqs


def determined(shape: tuple[int, int], hidden: set[Entry]) -> set[Entry]:
    """Hidden entries that the published ones and the equations fix to a single value."""
    unknowns = sorted(hidden)
    index = {e: k for k, e in enumerate(unknowns)}
    matrix: list[list[Fraction]] = []
    for eq in lines(shape):
        row = [Fraction(0)] * len(unknowns)
        for entry, coef in eq:
            if entry in index:
                row[index[entry]] += coef
        if any(row):
            matrix.append(row)
    pivots = _rref(matrix, len(unknowns))
    solved = set()
    for row_i, col in pivots:
        row = matrix[row_i]
        if all(v == 0 for k, v in enumerate(row) if k != col):
            solved.add(unknowns[col])
    return solved


def _rref(m: list[list[Fraction]], ncols: int) -> list[tuple[int, int]]:
    """Reduce ``m`` in place to reduced row-echelon form; return (row, pivot column) pairs."""
    pivots: list[tuple[int, int]] = []
    r = 0
    for col in range(ncols):
        pivot = next((i for i in range(r, len(m)) if m[i][col] != 0), None)
        if pivot is None:
            continue
        m[r], m[pivot] = m[pivot], m[r]
        lead = m[r][col]
        m[r] = [v / lead for v in m[r]]
        for i in range(len(m)):
            if i != r and m[i][col] != 0:
                f = m[i][col]
                m[i] = [a - f * b for a, b in zip(m[i], m[r], strict=True)]
        pivots.append((r, col))
        r += 1
        if r == len(m):
            break
    return pivots


def protect(
    cells: list[list[int]],
    *,
    threshold: int = DEFAULT_THRESHOLD,
    also_hide: set[Entry] | frozenset[Entry] = frozenset(),
) -> ProtectedTable:
    """Suppress small entries and enough complements that none can be solved for.

    ``also_hide`` forces entries hidden (e.g. an area total hidden in a linked table that
    publishes the same total: it must be hidden in every table or it gives the others away).
    """
    if threshold < 1:
        raise ValueError("The threshold must be at least 1.")
    values = augment(cells)
    table = ProtectedTable(values=values, threshold=threshold)
    shape = table.shape
    r, c = shape
    table.hidden = {
        (i, j) for i in range(r + 1) for j in range(c + 1) if 0 < values[i][j] < threshold
    } | set(also_hide)
    for _ in range((r + 1) * (c + 1)):
        exposed = determined(shape, table.hidden)
        if not exposed:
            return table
        complement = _complement(table, exposed)
        if complement is None:
            break
        table.hidden.add(complement)
    table.hidden = {(i, j) for i in range(r + 1) for j in range(c + 1)}
    return table


def _complement(table: ProtectedTable, exposed: set[Entry]) -> Entry | None:
    """The cheapest published entry sharing a line with an exposed one: non-zero before zero,
    interior cells before totals, then the smallest."""
    r, c = table.shape
    best: tuple[tuple[int, int, int], Entry] | None = None
    for i0, j0 in exposed:
        for e in [(i0, j) for j in range(c + 1)] + [(i, j0) for i in range(r + 1)]:
            if e in table.hidden:
                continue
            v = table.values[e[0]][e[1]]
            rank = (int(v == 0), int(e[0] == r or e[1] == c), v)
            if best is None or rank < best[0]:
                best = (rank, e)
    return best[1] if best else None
