"""The session guard (idle lock, single session, MFA gate) and the Content-Security-Policy header.

``guard(request)`` runs after authentication and django-otp (see ``core.context``
``ActorContextMiddleware``): it returns a response to send instead of the view's, or None.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from wellcheck.accounts.sessions import idle_expired

ENDED_KEY = "_wc_session_ended"
# Pages an actor who has signed in with a password but not yet with the second factor may open.
MFA_OPEN_ROUTES = ("accounts:mfa_verify", "accounts:mfa_enrol", "accounts:logout")


def mfa_required() -> bool:
    return bool(getattr(settings, "WELLCHECK_MFA_REQUIRED", True))


def _end(request: HttpRequest, why: str) -> None:
    request._wc_logout_reason = why  # type: ignore[attr-defined]  # read by the audit receiver
    logout(request)
    request.session[ENDED_KEY] = why


def guard(request: HttpRequest) -> HttpResponse | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(request, "session"):
        return None
    # One session per user: a new sign-in deletes the older sessions from the session store
    # (sessions.session_register), so a superseded session arrives here already anonymous.
    if idle_expired(request.session):
        _end(request, "idle")
        return None
    if mfa_required() and not user.is_verified():
        open_paths = {reverse(name) for name in MFA_OPEN_ROUTES}
        if request.path in open_paths or request.path.startswith(settings.STATIC_URL):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"detail": "Finish signing in: enter the code from your authenticator app."},
                status=403,
            )
        has_device = user.totpdevice_set.filter(confirmed=True).exists()
        target = "accounts:mfa_verify" if has_device else "accounts:mfa_enrol"
        return redirect(f"{reverse(target)}?next={request.get_full_path()}")
    return None


class ContentSecurityPolicyMiddleware:
    """Sets ``Content-Security-Policy`` (no inline scripts; Django 5.2 has no built-in CSP)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.WELLCHECK_CSP)
        return response


class DeniedAccessAuditMiddleware:
    """Audits refused and not-found answers to a signed-in actor as ``access.denied`` failures.

    CJIS 5.4.1.1 asks for unsuccessful attempts to access a record to be logged. The door answers
    404 for a record outside the actor's scope (never 403, which would confirm it exists), so
    every 403 or 404 a signed-in actor receives is written, with the method, path and status:
    probing for records shows in the trail and in the unusual-access report. The path holds
    record ids only (the query string, which may hold a searched name, is never written).
    Paths that match no route (``/favicon.ico``, typos) are not written either.
    Anonymous requests are not written: they are turned away before any record is looked up,
    and writing them would let anyone fill the trail. API requests are seen here with the actor
    DRF authenticated (DRF sets the user on the underlying request).
    """

    STATUSES = frozenset({403, 404})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code in self.STATUSES and _routed(request):
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                _audit_denied(request, user, response.status_code)
        return response


def _routed(request: HttpRequest) -> bool:
    """Only answers of a real route count: an unknown path (a browser's ``/favicon.ico``, a
    typo, static files) is not an attempt to reach a record and would flood the trail."""
    return getattr(request, "resolver_match", None) is not None


def _audit_denied(request: HttpRequest, user: object, status: int) -> None:
    from wellcheck.audit.events import EventType
    from wellcheck.audit.services import audit_record_failure

    audit_record_failure(
        actor=user,
        event_type=EventType.ACCESS_DENIED,
        component="api" if request.path.startswith("/api/") else "web",
        details={"method": request.method or "", "path": request.path[:200], "status": status},
    )
