"""Server-rendered SVG charts: no JavaScript, no CDN, no inline styles (CSP-friendly, offline).

Each function returns safe SVG markup sized by its viewBox (it scales to its container) with a
``<title>`` for screen readers. Colours come from presentation attributes and the stylesheet
classes ``chart-*`` in ``insights/static/insights/insights.css``.
"""

from __future__ import annotations

from collections.abc import Sequence

import h3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

BAR = "#0b5cad"
HOT = "#a3131c"


def _fmt(v: float) -> str:
    return f"{v:.1f}"


def _svg(width: int, height: int, title: str, body: list[str], css: str = "chart") -> SafeString:
    head = (
        f'<svg class="{css}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" preserveAspectRatio="xMinYMin meet">'
        f"<title>{escape(title)}</title>"
    )
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308 - every value is escaped above


def bar_chart(
    rows: Sequence[tuple[str, float | None]], *, title: str, highlight: set[str] | None = None
) -> SafeString:
    """Horizontal bars, one per label; a None value is drawn as "suppressed"."""
    width, label_w, bar_h, gap = 440, 170, 18, 6
    if not rows:
        return _svg(width, 40, title, ['<text x="8" y="24" font-size="13">No data</text>'])
    height = len(rows) * (bar_h + gap) + 8
    top = max([v for _, v in rows if v is not None] or [0]) or 1
    body = []
    for i, (label, value) in enumerate(rows):
        y = 4 + i * (bar_h + gap)
        short = label if len(label) <= 23 else label[:22] + "…"
        body.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end" font-size="12" '
            f'fill="#1b1f23">{escape(short)}</text>'
        )
        if value is None:
            body.append(
                f'<text x="{label_w + 4}" y="{y + 13}" font-size="12" fill="#5a6570">'
                "suppressed</text>"
            )
            continue
        w = (width - label_w - 60) * value / top
        colour = HOT if highlight and label in highlight else BAR
        body.append(
            f'<rect class="chart-bar" x="{label_w}" y="{y}" width="{_fmt(max(w, 1))}" '
            f'height="{bar_h}" fill="{colour}"><title>{escape(label)}: {value:g}</title></rect>'
            f'<text x="{_fmt(label_w + max(w, 1) + 4)}" y="{y + 13}" font-size="12" '
            f'fill="#1b1f23">{value:g}</text>'
        )
    return _svg(width, height, title, body)


def line_chart(points: Sequence[tuple[str, float]], *, title: str) -> SafeString:
    """A line over equally spaced labels (days, weeks, months), with first/last labels."""
    width, height, pad_l, pad_b = 440, 180, 40, 24
    if not points:
        return _svg(width, 40, title, ['<text x="8" y="24" font-size="13">No data</text>'])
    top = max(v for _, v in points) or 1
    n = len(points)
    step = (width - pad_l - 10) / max(n - 1, 1)
    coords = [
        (pad_l + i * step, 8 + (height - pad_b - 8) * (1 - v / top))
        for i, (_, v) in enumerate(points)
    ]
    path = " ".join(
        f"{'M' if i == 0 else 'L'}{_fmt(x)},{_fmt(y)}" for i, (x, y) in enumerate(coords)
    )
    body = [
        f'<line x1="{pad_l}" y1="{height - pad_b}" x2="{width - 10}" y2="{height - pad_b}" '
        'stroke="#d5dbe1"/>',
        f'<text x="{pad_l - 6}" y="14" text-anchor="end" font-size="11">{top:g}</text>',
        f'<text x="{pad_l - 6}" y="{height - pad_b}" text-anchor="end" font-size="11">0</text>',
        f'<path class="chart-line" d="{path}" fill="none" stroke="{BAR}" stroke-width="2"/>',
        f'<text x="{pad_l}" y="{height - 6}" font-size="11">{escape(points[0][0])}</text>',
        f'<text x="{width - 10}" y="{height - 6}" text-anchor="end" font-size="11">'
        f"{escape(points[-1][0])}</text>",
    ]
    if n <= 62:
        for (x, y), (label, v) in zip(coords, points, strict=True):
            body.append(
                f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="2.5" fill="{BAR}">'
                f"<title>{escape(label)}: {v:g}</title></circle>"
            )
    return _svg(width, height, title, body)


def heatmap(
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    grid: Sequence[Sequence[float | None]],
    *,
    title: str,
) -> SafeString:
    """A grid of cells shaded by value (None = suppressed, hatched grey)."""
    label_w, cell_w, cell_h = 110, max(18, min(60, 450 // max(len(col_labels), 1))), 20
    width = label_w + cell_w * len(col_labels) + 8
    height = 22 + cell_h * len(row_labels) + 4
    top = max([v for r in grid for v in r if v is not None] or [0]) or 1
    body = []
    for j, col in enumerate(col_labels):
        if len(col_labels) <= 8 or j % 3 == 0:
            body.append(
                f'<text x="{label_w + j * cell_w + 2}" y="14" font-size="11">{escape(col)}</text>'
            )
    for i, (label, row) in enumerate(zip(row_labels, grid, strict=True)):
        y = 20 + i * cell_h
        short = label if len(label) <= 16 else label[:15] + "…"
        body.append(
            f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" font-size="11">'
            f"{escape(short)}</text>"
        )
        for j, v in enumerate(row):
            x = label_w + j * cell_w
            if v is None:
                fill, tip = "#c8ced4", "suppressed"
            else:
                level = v / top
                red, green, blue = (int(255 - d * level) for d in (244, 163, 82))
                fill = f"rgb({red},{green},{blue})"
                tip = f"{v:g}"
            body.append(
                f'<rect class="chart-cell" x="{x}" y="{y}" width="{cell_w - 1}" '
                f'height="{cell_h - 1}" fill="{fill}"><title>{escape(label)} '
                f"{escape(col_labels[j])}: {tip}</title></rect>"
            )
    return _svg(width, height, title, body)


def hex_map(cells: Sequence[tuple[str, int]], *, title: str) -> SafeString:
    """H3 hexagons drawn in a local equirectangular projection, shaded by count."""
    width, height = 560, 360
    if not cells:
        return _svg(width, 40, title, ['<text x="8" y="24" font-size="13">No cells to show</text>'])
    shapes = [(cid, n, h3.cell_to_boundary(cid)) for cid, n in cells]
    lats = [p[0] for _, _, b in shapes for p in b]
    lngs = [p[1] for _, _, b in shapes for p in b]
    lat0, lat1, lng0, lng1 = min(lats), max(lats), min(lngs), max(lngs)
    span = max(lat1 - lat0, (lng1 - lng0) * 0.8, 1e-6)
    scale = (height - 20) / span
    top = max(n for _, n, _ in shapes) or 1
    body = []
    for cid, n, boundary in shapes:
        pts = " ".join(
            f"{_fmt(10 + (lng - lng0) * 0.8 * scale)},{_fmt(10 + (lat1 - lat) * scale)}"
            for lat, lng in boundary
        )
        level = n / top
        fill = f"rgb({int(255 - 92 * level)},{int(230 - 211 * level)},{int(200 - 172 * level)})"
        body.append(
            f'<polygon class="chart-hex" points="{pts}" fill="{fill}" stroke="#fff">'
            f"<title>{escape(cid)}: {n}</title></polygon>"
        )
    return _svg(width, height, title, body)
