"""Exports of a panel's numbers: CSV, XLSX (openpyxl) and, for hotspots, GeoJSON.

Every export is a disclosure and is audited (``EventType.EXPORT``) in the same transaction that
builds the file: the event names the panel, the format, the filters and the row count, never
any value.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import h3
from django.db import transaction
from openpyxl import Workbook

from wellcheck.accounts.models import User
from wellcheck.audit.events import EventType
from wellcheck.audit.services import audit_record
from wellcheck.insights.filters import Filters
from wellcheck.insights.selectors import Panel

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
}


def _csv_safe(value: Any) -> Any:
    """Neutralise spreadsheet formulas (CSV injection) in text cells."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return "" if value is None else value


def panel_csv(panel: Panel) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(panel.columns)
    for row in panel.rows:
        writer.writerow([_csv_safe(v) for v in row])
    return buf.getvalue().encode("utf-8")


def panel_xlsx(panel: Panel) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = panel.slug[:31]
    ws.append(panel.columns)
    for row in panel.rows:
        ws.append([_csv_safe(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def panel_geojson(panel: Panel) -> bytes:
    """H3 cells as polygons (GeoJSON is lng, lat), with their counts as properties."""
    if panel.kind != "hexes":
        raise ValueError("Only the hotspot panel has areas to export as GeoJSON.")
    features = []
    for cell, n, mh in panel.rows:
        ring = [[lng, lat] for lat, lng in h3.cell_to_boundary(cell)]
        ring.append(ring[0])
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"h3": cell, "checks": n, "mental_health_related": mh},
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


@transaction.atomic
def panel_export(*, actor: User, panel: Panel, fmt: str, filters: Filters) -> bytes:
    """Build the file and record the export (the disclosure) in one transaction."""
    builders = {"csv": panel_csv, "xlsx": panel_xlsx, "geojson": panel_geojson}
    if fmt not in builders:
        raise ValueError(f"Unknown export format {fmt!r}: use csv, xlsx or geojson.")
    data = builders[fmt](panel)
    audit_record(
        actor=actor,
        event_type=EventType.EXPORT,
        target_type="insights.panel",
        target_id=panel.slug,
        details={"format": fmt, "filters": filters.as_query(), "rows": len(panel.rows)},
    )
    return data
