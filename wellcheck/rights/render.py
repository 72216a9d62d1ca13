"""The subject access answer as JSON and as PDF (fpdf2, with a vendored DejaVu Sans font so that
every name prints as written; no network, no external fonts at run time)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fpdf import FPDF

FONT = Path(__file__).with_name("fonts") / "DejaVuSans.ttf"
TITLES = {
    "person": "Your details",
    "checks": "Wellness checks about you",
    "restricted_records": "Records kept for evidence (restricted)",
    "health_segments": "Health records",
    "consents": "Your consents",
    "supplementary_statements": "Your statements",
    "purposes": "Why we hold this data",
    "recipients": "Who we disclosed it to",
    "who_looked": "Who consulted your records",
    "retention": "How long we keep it (review intervals)",
    "redactions": "What we withheld, and why",
    "rights": "Your rights",
}


def as_json(package: dict[str, Any]) -> bytes:
    return json.dumps(package, indent=2, ensure_ascii=False, sort_keys=True).encode()


def _lines(value: Any, indent: int = 0) -> list[str]:
    pad = "  " * indent
    if isinstance(value, dict):
        out = []
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                out.append(f"{pad}{key.replace('_', ' ')}:")
                out.extend(_lines(item, indent + 1))
            else:
                out.append(f"{pad}{key.replace('_', ' ')}: {'' if item is None else item}")
        return out
    if isinstance(value, list):
        out = []
        for i, item in enumerate(value, 1):
            if isinstance(item, dict | list):
                out.append(f"{pad}{i}.")
                out.extend(_lines(item, indent + 1))
            else:
                out.append(f"{pad}- {item}")
        return out or [f"{pad}(none)"]
    return [f"{pad}{value}"]


def as_pdf(package: dict[str, Any], *, agency_name: str) -> bytes:
    pdf = FPDF(format="A4")
    below = {"new_x": "LMARGIN", "new_y": "NEXT"}
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("DejaVu", "", str(FONT))
    pdf.add_page()
    pdf.set_font("DejaVu", size=15)
    pdf.multi_cell(0, 8, f"Subject access answer from {agency_name}", **below)
    pdf.set_font("DejaVu", size=9)
    request = package.get("request", {})
    pdf.multi_cell(
        0,
        5,
        f"Request {request.get('id', '')}, received {request.get('received_on', '')}, "
        f"due {request.get('due_on', '')}, answered {request.get('answered_on', '')}.",
        **below,
    )
    for key, title in TITLES.items():
        pdf.ln(3)
        pdf.set_font("DejaVu", size=12)
        pdf.multi_cell(0, 7, title, **below)
        pdf.set_font("DejaVu", size=9)
        for line in _lines(package.get(key, [])):
            pdf.multi_cell(0, 4.5, line, **below)
    return bytes(pdf.output())
