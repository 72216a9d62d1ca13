"""The analyst's dashboard and its exports. Thin: filters are parsed, selectors read, the export
service audits. Every route needs ``AGGREGATE_VIEW``; nothing here can show a record."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from wellcheck.accounts.permissions import Action
from wellcheck.checks.models import Code
from wellcheck.checks.taxonomy import CodeCategory
from wellcheck.core.routes import requires
from wellcheck.insights.exports import FORMATS, panel_export
from wellcheck.insights.filters import AreaScope, Filters, parse_filters
from wellcheck.insights.present import chart_for
from wellcheck.insights.selectors import PANELS, dashboard, panel
from wellcheck.insights.stats import TEST_NAME


def _codes(category: str) -> list[tuple[str, str]]:
    return list(
        Code.objects.filter(category=category, agency__isnull=True, active=True)
        .order_by("sort_order", "label")
        .values_list("code", "label")
    )


@requires(Action.AGGREGATE_VIEW)
def dashboard_view(request: HttpRequest) -> HttpResponse:
    areas = AreaScope(request.user)  # type: ignore[arg-type]
    errors: dict[str, list[str]] = {}
    try:
        filters = parse_filters(request.user, request.GET, areas)  # type: ignore[arg-type]
    except ValidationError as exc:
        errors = exc.message_dict
        filters = parse_filters(request.user, {}, areas)  # type: ignore[arg-type]
    panels = dashboard(actor=request.user, filters=filters, areas=areas)  # type: ignore[arg-type]
    context = {
        "filters": filters,
        "query": filters.as_query(),
        "query_string": urlencode(filters.as_query()),
        "errors": errors,
        "area_options": areas.options(),
        "reasons": _codes(CodeCategory.REASON),
        "outcomes": _codes(CodeCategory.OUTCOME),
        "panels": [{"panel": p, "chart": chart_for(p)} for p in panels],
        "test_name": TEST_NAME,
    }
    return render(request, "insights/dashboard.html", context, status=400 if errors else 200)


@requires(Action.AGGREGATE_VIEW)
def export_view(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    if slug not in PANELS or fmt not in FORMATS:
        raise Http404("No such panel or format.")
    areas = AreaScope(request.user)  # type: ignore[arg-type]
    try:
        filters: Filters = parse_filters(request.user, request.GET, areas)  # type: ignore[arg-type]
    except ValidationError as exc:
        return HttpResponse(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    found = panel(actor=request.user, filters=filters, areas=areas, slug=slug)  # type: ignore[arg-type]
    if found is None or (fmt == "geojson" and found.kind != "hexes"):
        raise Http404("This panel has no areas to export as GeoJSON.")
    data = panel_export(actor=request.user, panel=found, fmt=fmt, filters=filters)  # type: ignore[arg-type]
    response = HttpResponse(data, content_type=FORMATS[fmt])
    name = f"wellcheck-{slug}-{filters.first:%Y-%m}-{filters.last:%Y-%m}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
