"""Write a public report as static files (HTML, CSV, JSON, data dictionary) for an open-data portal.

The files hold exactly what the public page shows: the report after disclosure control. Writing
them is a disclosure and is audited (``EventType.EXPORT``, component ``cli``).
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import transaction
from django.template.loader import render_to_string

from wellcheck.accounts.models import Agency
from wellcheck.audit.events import EventType
from wellcheck.audit.services import audit_record
from wellcheck.transparency import dictionary
from wellcheck.transparency.present import charts_for
from wellcheck.transparency.report import Period, published_report, rows_from_dict

STATIC_FILES = ("wellcheck/app.css", "insights/insights.css")


def publish_static(
    *, agency: Agency, period: Period, out: Path, threshold: int, epsilon: float | None
) -> list[Path]:
    """Write the report into ``out`` (created if needed). Returns the files written."""
    report = published_report(agency=agency, period=period, threshold=threshold, epsilon=epsilon)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def write(name: str, text: str) -> None:
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)

    write("report.json", json.dumps(report, indent=1))
    with (out / "report.csv").open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows_from_dict(report))
    written.append(out / "report.csv")
    body = {"fields": dictionary.FIELDS, "tables": dictionary.TABLES, "method": dictionary.METHOD}
    write("data_dictionary.json", json.dumps(body, indent=1))
    with (out / "data_dictionary.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["field", "type", "description"])
        writer.writeheader()
        writer.writerows(dictionary.FIELDS)
    written.append(out / "data_dictionary.csv")
    html = render_to_string(
        "transparency/report.html",
        {
            "report": report,
            "charts": charts_for(report),
            "tables_help": dictionary.TABLES,
            "fields": dictionary.FIELDS,
            "method": dictionary.METHOD,
            "static_site": True,
        },
    )
    prefix = "/" + settings.STATIC_URL.lstrip("/")
    write("index.html", html.replace(f'href="{prefix}', 'href="static/'))
    for rel in STATIC_FILES:
        source = finders.find(rel)
        if source:
            target = out / "static" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(str(source), target)
            written.append(target)
    with transaction.atomic():
        audit_record(
            actor=None,
            event_type=EventType.EXPORT,
            target_type="transparency.report",
            target_id=f"{agency.slug}/{period.label}",
            component="cli",
            agency_id=agency.pk,
            details={
                "period": period.label,
                "threshold": threshold,
                "epsilon": epsilon,
                "files": sorted(p.name for p in written),
            },
        )
    return written
