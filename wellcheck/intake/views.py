"""Pages for records officers: upload an export, follow the background import, get the rejects.

Thin: the form validates, ``services_upload.import_run_queue`` writes, the job imports. Runs are
read only through ``ImportRun.objects.restrict(actor, CALLS_IMPORT)``: another agency's run is a
404.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from wellcheck.accounts.permissions import Action
from wellcheck.core.routes import requires
from wellcheck.intake.forms import UploadForm
from wellcheck.intake.models import ImportRun, RunStatus
from wellcheck.intake.services_upload import import_rejects_opened, import_run_queue


def _run_for(request: HttpRequest, run_id: uuid.UUID) -> ImportRun:
    run = ImportRun.objects.restrict(request.user, Action.CALLS_IMPORT).filter(pk=run_id).first()
    if run is None:
        raise Http404("No such import.")
    return run


@requires(Action.CALLS_IMPORT)
def import_index(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        run = import_run_queue(
            actor=request.user,  # type: ignore[arg-type]
            profile_name=form.cleaned_data["profile"],
            upload=form.cleaned_data["file"],
        )
        return redirect("intake:run", run_id=run.pk)
    runs = ImportRun.objects.restrict(request.user, Action.CALLS_IMPORT).order_by("-created_at")
    return render(request, "intake/index.html", {"form": form, "runs": runs[:20]})


@requires(Action.CALLS_IMPORT)
def import_run(request: HttpRequest, run_id: uuid.UUID) -> HttpResponse:
    run = _run_for(request, run_id)
    active = run.status in (RunStatus.QUEUED, RunStatus.RUNNING)
    summary = run.counters or {}
    return render(
        request,
        "intake/run.html",
        {
            "run": run,
            "active": active,
            "summary": summary,
            "warnings": sorted((summary.get("warnings") or {}).items()),
        },
    )


@requires(Action.CALLS_IMPORT)
def import_rejects(request: HttpRequest, run_id: uuid.UUID) -> HttpResponse:
    run = _run_for(request, run_id)
    if not run.reject_path or not run.reject_bytes or not Path(run.reject_path).exists():
        raise Http404("This import rejected no rows.")
    handle = import_rejects_opened(actor=request.user, run=run)  # type: ignore[arg-type]
    return FileResponse(
        handle, as_attachment=True, filename=f"rejects-{run.pk}.csv", content_type="text/csv"
    )
