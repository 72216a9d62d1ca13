"""The auditor's pages: search, CSV export, one event, a person's readers, unusual access.

Every page that shows the trail writes an ``audit.read`` event (the export an
``audit.exported`` event) with the filters used: reading the audit trail is itself audited.
"""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from wellcheck.accounts.permissions import Action
from wellcheck.audit import selectors
from wellcheck.audit.events import Category, EventType
from wellcheck.audit.models import UnusualAccessReport
from wellcheck.audit.services import audit_record
from wellcheck.audit.unusual import RULES, run_unusual_access
from wellcheck.core.routes import requires

PAGE = 200
EXPORT_MAX = 100_000
CSV_COLUMNS = (
    "seq",
    "occurred_at",
    "event_type",
    "category",
    "outcome",
    "actor_id",
    "actor_name",
    "component",
    "request_id",
    "client_ip",
    "target_type",
    "target_id",
    "reason",
    "recipients",
    "changes",
    "details",
    "row_hash",
)


def _filters(request: HttpRequest) -> tuple[selectors.EventFilters, dict[str, str]]:
    """Filters from the query string; bad values are reported by field name."""
    get = request.GET
    errors: dict[str, str] = {}
    dates: dict[str, dt.date | None] = {}
    for name in ("since", "until"):
        raw = get.get(name, "").strip()
        try:
            dates[name] = dt.date.fromisoformat(raw) if raw else None
        except ValueError:
            errors[name] = f"{name}: expected a date as YYYY-MM-DD, got {raw[:20]!r}"
            dates[name] = None
    seqs: list[int] = []
    for part in get.get("seqs", "").split(","):
        if part.strip().isdigit():
            seqs.append(int(part))
        elif part.strip():
            errors["seqs"] = "seqs: expected event numbers separated by commas"
    event_type = get.get("event_type", "").strip()
    if event_type and event_type not in EventType.values:
        errors["event_type"] = "event_type: unknown event type"
        event_type = ""
    category = get.get("category", "").strip()
    if category and category not in Category.values:
        errors["category"] = "category: unknown category"
        category = ""
    filters = selectors.EventFilters(
        actor=get.get("actor", "").strip()[:150],
        target=get.get("target", "").strip()[:64],
        event_type=event_type,
        category=category,
        since=dates["since"],
        until=dates["until"],
        seqs=tuple(seqs[:1000]),
    )
    return filters, errors


@requires(Action.AUDIT_VIEW)
def event_search(request: HttpRequest) -> HttpResponse:
    filters, errors = _filters(request)
    events = list(selectors.event_search(actor=request.user, filters=filters)[:PAGE])  # type: ignore[arg-type]
    audit_record(
        actor=request.user,
        event_type=EventType.AUDIT_READ,
        details={"view": "search", "filters": filters.as_details(), "shown": len(events)},
    )
    return render(
        request,
        "audit/search.html",
        {
            "events": events,
            "filters": filters,
            "errors": errors,
            "page": PAGE,
            "event_types": EventType.choices,
            "categories": Category.choices,
            "query": request.GET.urlencode(),
        },
        status=400 if errors else 200,
    )


@requires(Action.AUDIT_VIEW)
def event_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    filters, errors = _filters(request)
    if errors:
        return HttpResponse("; ".join(errors.values()), status=400, content_type="text/plain")
    events = selectors.event_search(actor=request.user, filters=filters)[:EXPORT_MAX]  # type: ignore[arg-type]
    audit_record(
        actor=request.user,
        event_type=EventType.AUDIT_EXPORTED,
        details={"view": "export", "filters": filters.as_details(), "format": "csv"},
    )

    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Echo())

    def rows() -> Any:
        yield writer.writerow(CSV_COLUMNS)
        for event in events.iterator(chunk_size=2000):
            yield writer.writerow([_csv_value(getattr(event, c)) for c in CSV_COLUMNS])

    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response


def _csv_value(value: Any) -> str:
    import json

    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    text = "" if value is None else str(value)
    # a cell starting with = + - @ is a formula in spreadsheets: neutralise it
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _int_param(request: HttpRequest, name: str) -> int | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404
    return int(raw)


@requires(Action.AUDIT_VIEW)
def event_detail(request: HttpRequest) -> HttpResponse:
    seq = _int_param(request, "seq")
    if seq is None:
        return render(request, "audit/event.html", {"event": None})
    event = selectors.event_get(actor=request.user, seq=seq)  # type: ignore[arg-type]
    if event is None:
        raise Http404
    audit_record(
        actor=request.user,
        event_type=EventType.AUDIT_READ,
        details={"view": "event", "seq": seq},
    )
    return render(request, "audit/event.html", {"event": event})


@requires(Action.AUDIT_VIEW)
def person_report(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("id", "").strip()
    if not raw:
        return render(request, "audit/person.html", {"events": None, "person_id": ""})
    try:
        person_id = uuid.UUID(raw)
    except ValueError:
        return render(
            request,
            "audit/person.html",
            {"events": None, "person_id": raw[:40], "error": "id: expected a person id (UUID)"},
            status=400,
        )
    events = list(selectors.person_reads(actor=request.user, person_id=person_id)[:1000])  # type: ignore[arg-type]
    audit_record(
        actor=request.user,
        event_type=EventType.AUDIT_READ,
        target_type="people.person",
        target_id=str(person_id),
        details={"view": "person_readers", "shown": len(events)},
    )
    return render(request, "audit/person.html", {"events": events, "person_id": person_id})


@requires(Action.AUDIT_VIEW)
@require_http_methods(["GET", "POST"])
def unusual_list(request: HttpRequest) -> HttpResponse:
    agency_id = request.user.agency_id  # type: ignore[union-attr]
    if agency_id is None:
        raise Http404
    if request.method == "POST":
        try:
            days = max(1, min(90, int(request.POST.get("days", "1"))))
        except ValueError:
            days = 1
        end = timezone.now()
        report = run_unusual_access(
            agency_id=agency_id,
            start=end - dt.timedelta(days=days),
            end=end,
            actor=request.user,  # type: ignore[arg-type]
        )
        return redirect(f"{reverse('audit:unusual_report')}?id={report.pk}")
    reports = list(UnusualAccessReport.objects.filter(agency_id=agency_id)[:30])
    audit_record(
        actor=request.user,
        event_type=EventType.AUDIT_READ,
        details={"view": "unusual_list"},
    )
    return render(request, "audit/unusual_list.html", {"reports": reports, "rules": RULES})


@requires(Action.AUDIT_VIEW)
def unusual_report(request: HttpRequest) -> HttpResponse:
    agency_id = request.user.agency_id  # type: ignore[union-attr]
    if agency_id is None:
        raise Http404
    report_id = _int_param(request, "id")
    if report_id is None:
        return render(request, "audit/unusual_report.html", {"report": None, "rules": RULES})
    report = UnusualAccessReport.objects.filter(pk=report_id, agency_id=agency_id).first()
    if report is None:
        raise Http404
    audit_record(
        actor=request.user,
        event_type=EventType.AUDIT_READ,
        target=report,
        details={"view": "unusual_report"},
    )
    findings = [
        {**f, "link": "?seqs=" + ",".join(str(s) for s in f["seqs"])} for f in report.findings
    ]
    return render(
        request,
        "audit/unusual_report.html",
        {"report": report, "findings": findings, "rules": RULES},
    )
