"""Public pages and open-data files (no sign-in). Every number shown has passed disclosure control
(``report.published_report``); the views only choose the agency and period and render."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from wellcheck.accounts.models import Agency
from wellcheck.core.routes import public
from wellcheck.transparency import dictionary
from wellcheck.transparency.disclosure import DEFAULT_THRESHOLD
from wellcheck.transparency.present import charts_for
from wellcheck.transparency.report import (
    available_periods,
    parse_period,
    published_report,
    rows_from_dict,
)


def disclosure_settings() -> tuple[int, float | None]:
    threshold = int(getattr(settings, "WELLCHECK_PUBLIC_THRESHOLD", DEFAULT_THRESHOLD))
    epsilon = getattr(settings, "WELLCHECK_PUBLIC_EPSILON", None)
    return max(threshold, 1), (float(epsilon) if epsilon else None)


def _agency(slug: str) -> Agency:
    agency = Agency.objects.filter(slug=slug).first()
    if agency is None:
        raise Http404("No such agency.")
    return agency


def _report(slug: str, period: str) -> dict[str, Any]:
    agency = _agency(slug)
    try:
        parsed = parse_period(period)
    except ValueError as exc:
        raise Http404(str(exc)) from None
    threshold, epsilon = disclosure_settings()
    return published_report(agency=agency, period=parsed, threshold=threshold, epsilon=epsilon)


@public
def index(request: HttpRequest) -> HttpResponse:
    agencies = Agency.objects.order_by("name").values("name", "slug")
    return render(request, "transparency/index.html", {"agencies": agencies})


@public
def agency_view(request: HttpRequest, slug: str) -> HttpResponse:
    agency = _agency(slug)
    return render(
        request,
        "transparency/agency.html",
        {"agency": agency, "periods": available_periods(agency)},
    )


@public
def report_view(request: HttpRequest, slug: str, period: str) -> HttpResponse:
    report = _report(slug, period)
    context = {
        "report": report,
        "charts": charts_for(report),
        "tables_help": dictionary.TABLES,
        "fields": dictionary.FIELDS,
        "method": dictionary.METHOD,
        "static_site": False,
    }
    return render(request, "transparency/report.html", context)


@public
def report_csv(request: HttpRequest, slug: str, period: str) -> HttpResponse:
    report = _report(slug, period)
    buf = io.StringIO()
    csv.writer(buf).writerows(rows_from_dict(report))
    response = HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="wellchecks-{slug}-{period}.csv"'
    return response


@public
def report_json(request: HttpRequest, slug: str, period: str) -> HttpResponse:
    return JsonResponse(_report(slug, period), json_dumps_params={"indent": 1})


@public
def data_dictionary(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt == "json":
        body = {
            "fields": dictionary.FIELDS,
            "tables": dictionary.TABLES,
            "method": dictionary.METHOD,
        }
        return HttpResponse(json.dumps(body, indent=1), content_type="application/json")
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=["field", "type", "description"])
        writer.writeheader()
        writer.writerows(dictionary.FIELDS)
        return HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
    raise Http404("Use data-dictionary.json or data-dictionary.csv.")
