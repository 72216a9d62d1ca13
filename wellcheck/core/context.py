"""Per-request context: a request id and the acting user, for audit events and log lines.

Values live in context variables, so services can reach them without a request argument, and a
command-line run (import, seed) gets its own request id.
"""

from __future__ import annotations

import contextvars
import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_client_ip: contextvars.ContextVar[str] = contextvars.ContextVar("client_ip", default="")


def current_request_id() -> str:
    value = _request_id.get()
    if value == "-":
        value = f"cli-{uuid.uuid4().hex[:16]}"
        _request_id.set(value)
    return value


def current_client_ip() -> str:
    return _client_ip.get()


def new_request_id() -> str:
    value = uuid.uuid4().hex
    _request_id.set(value)
    return value


class RequestContextMiddleware:
    """Gives every request an id (echoed in ``X-Request-ID``) and records the client address."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = new_request_id()
        token = _client_ip.set(str(request.META.get("REMOTE_ADDR", "")))
        try:
            response = self.get_response(request)
        finally:
            _client_ip.reset(token)
        response["X-Request-ID"] = rid
        return response


class ActorContextMiddleware:
    """After authentication: the session guard (idle lock, one session per user, MFA gate).

    See ``wellcheck.accounts.middleware.guard``; it either answers in place of the view or lets
    the request through (possibly signed out).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from wellcheck.accounts.middleware import guard

        early = guard(request)
        if early is not None:
            return early
        return self.get_response(request)


class RequestIdLogFilter(logging.Filter):
    """Adds ``request_id`` to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


def template_context(request: HttpRequest) -> dict[str, Any]:
    from django.conf import settings

    context: dict[str, Any] = {
        "WELLCHECK_DEMO": settings.WELLCHECK_DEMO,
        # A visible banner whenever multi-factor sign-in is switched off (demo only).
        "MFA_OFF": not getattr(settings, "WELLCHECK_MFA_REQUIRED", True),
    }
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        from wellcheck.accounts.notifications import unread_count

        context["notifications_unread"] = unread_count(user)
    return context
