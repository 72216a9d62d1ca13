"""Pages for recording, listing and reviewing checks (thin: selectors read, services write)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from wellcheck.accounts.permissions import Action
from wellcheck.checks.models import WellnessCheck


@login_required
def check_list(request: HttpRequest) -> HttpResponse:
    checks = WellnessCheck.objects.restrict(request.user, Action.CHECK_VIEW)[:50]
    return render(request, "checks/list.html", {"checks": checks})
