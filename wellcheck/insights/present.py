"""Turn a panel into its chart (SVG) for templates."""

from __future__ import annotations

from django.utils.safestring import SafeString, mark_safe

from wellcheck.insights import charts
from wellcheck.insights.selectors import Panel


def chart_for(panel: Panel) -> SafeString:
    if panel.kind == "bars":
        return charts.bar_chart([(str(r[0]), r[1]) for r in panel.rows], title=panel.title)
    if panel.kind == "line":
        if "series" in panel.extra:
            return charts.line_chart(panel.extra["series"], title=panel.title)
        col = panel.extra.get("value_column", 1)
        return charts.line_chart([(str(r[0]), r[col]) for r in panel.rows], title=panel.title)
    if panel.kind == "heat":
        return charts.heatmap(
            [str(r[0]) for r in panel.rows],
            panel.columns[1:],
            [r[1:] for r in panel.rows],
            title=panel.title,
        )
    if panel.kind == "hexes":
        return charts.hex_map([(r[0], r[1]) for r in panel.rows], title=panel.title)
    return mark_safe("")  # tables have no chart
