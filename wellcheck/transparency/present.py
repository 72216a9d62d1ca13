"""Charts for the public report, drawn from the published (protected) numbers only."""

from __future__ import annotations

from typing import Any

from django.utils.safestring import SafeString

from wellcheck.insights import charts


def _table(report: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((t for t in report["tables"] if t["name"] == name), None)


def charts_for(report: dict[str, Any]) -> list[tuple[str, SafeString]]:
    out: list[tuple[str, SafeString]] = []
    outcome = _table(report, "outcome")
    if outcome:
        out.append(
            (
                "Checks by area",
                charts.bar_chart(
                    [(r["area"], r["total"]) for r in outcome["rows"]], title="Checks by area"
                ),
            )
        )
        pairs = [
            (c, v)
            for c, v in zip(outcome["columns"], outcome["column_totals"], strict=True)
            if v != 0
        ]
        out.append(("Outcomes", charts.bar_chart(pairs, title="Outcomes (all areas)")))
    tod = _table(report, "time_of_day")
    if tod:
        out.append(
            (
                "Time of day",
                charts.heatmap(
                    [r["area"] for r in tod["rows"]],
                    [c[:2] + "-" + str(int(c[:2]) + 4).zfill(2) for c in tod["columns"]],
                    [r["values"] for r in tod["rows"]],
                    title="Checks by area and time of day",
                ),
            )
        )
    mh = _table(report, "mental_health")
    if mh:
        pairs = list(zip(mh["columns"], mh["column_totals"], strict=True))
        out.append(
            ("Mental-health related", charts.bar_chart(pairs, title="Mental-health related"))
        )
    return out
