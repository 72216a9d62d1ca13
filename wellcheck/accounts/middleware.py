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
