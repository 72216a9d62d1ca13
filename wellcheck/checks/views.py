"""Pages for recording, listing and reviewing checks (thin: selectors read, services write)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from wellcheck.accounts.permissions import Action
from wellcheck.checks.models import WellnessCheck
from wellcheck.core.routes import requires


@requires(Action.CHECK_VIEW)
def check_list(request: HttpRequest) -> HttpResponse:
    checks = WellnessCheck.objects.restrict(request.user, Action.CHECK_VIEW)[:50]
    return render(request, "checks/list.html", {"checks": checks})
