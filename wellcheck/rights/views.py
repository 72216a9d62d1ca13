"""The records officer downloads a subject access answer as JSON or PDF (thin views)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse

from wellcheck.accounts.permissions import Action
from wellcheck.audit.events import EventType
from wellcheck.audit.services import audit_record
from wellcheck.core.routes import requires
from wellcheck.rights.models import RequestStatus, SubjectAccessRequest
from wellcheck.rights.package import SUBJECT
from wellcheck.rights.render import as_json, as_pdf


@requires(Action.SUBJECT_RIGHTS)
def access_answer(request: HttpRequest, pk: object, fmt: str) -> HttpResponse:
    sar = (
        SubjectAccessRequest.objects.restrict(request.user, Action.SUBJECT_RIGHTS)
        .filter(pk=pk, status=RequestStatus.ANSWERED)
        .select_related("agency")
        .first()
    )
    if sar is None or fmt not in {"json", "pdf"}:
        raise Http404("No such answer.")
    audit_record(
        actor=request.user,
        event_type=EventType.EXPORT,
        target_type="people.person",
        target_id=str(sar.person_id or ""),
        recipients=[SUBJECT],
        details={"subject_access_request": str(sar.pk), "format": fmt},
    )
    if fmt == "json":
        body, ctype = as_json(sar.answer), "application/json"
    else:
        body, ctype = as_pdf(sar.answer, agency_name=sar.agency.name), "application/pdf"
    response = HttpResponse(body, content_type=ctype)
    response["Content-Disposition"] = f'attachment; filename="subject-access-{sar.pk}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response
