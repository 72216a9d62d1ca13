"""Lockout (CJIS 5.5.3): the page axes shows, and the guard for the API token path.

django-axes watches Django's ``authenticate()`` (the sign-in page). API tokens do not go through
it, so :func:`token_guard` counts failed tokens per client address by hand with the same handler
and the same limits: five bad tokens from one address lock that address out of token
authentication for the cool-off time.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_ip_address
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

LOCKED_MESSAGE = (
    "Too many failed sign-in attempts from this device. Try again in 10 minutes, "
    "or ask an administrator to unlock the account."
)
# The pseudo user name under which failed API tokens are counted (with the client address).
TOKEN_CREDENTIAL = "api-token"  # noqa: S105 - a label, not a secret


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """429 with the same words whether or not the user name exists (no user enumeration)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": LOCKED_MESSAGE}, status=429)
    body = render_to_string("accounts/locked.html", {"message": LOCKED_MESSAGE}, request=request)
    return HttpResponse(body, status=429)


def _prepare(request: Any) -> Any:
    """DRF hands us its Request; axes wants the Django one with its attributes set."""
    django_request = getattr(request, "_request", request)
    AxesProxyHandler.update_request(django_request)
    if getattr(django_request, "axes_ip_address", None) is None:
        django_request.axes_ip_address = get_client_ip_address(django_request)
    return django_request


def token_allowed(request: Any) -> bool:
    django_request = _prepare(request)
    return bool(AxesProxyHandler.is_allowed(django_request, {"username": TOKEN_CREDENTIAL}))


def token_failed(request: Any) -> None:
    django_request = _prepare(request)
    user_login_failed.send(
        sender=__name__, credentials={"username": TOKEN_CREDENTIAL}, request=django_request
    )
