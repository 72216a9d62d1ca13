"""Route rules: every view declares the action it needs, or is explicitly public.

Function views use ``@requires(Action.X)`` or ``@public``; DRF views set ``required_action``
(or ``required_actions`` by HTTP method) and use :class:`ActionPermission`. A test walks the URL
configuration and fails on any route with no declared rule (see tests/test_route_rules.py).

Route-level denial answers 403 (the page exists for others); record-level denial is the door's
empty queryset, which answers 404.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import BasePermission

from wellcheck.accounts.permissions import Action, can

V = TypeVar("V", bound=Callable[..., Any])


def requires(*actions: Action) -> Callable[[V], V]:
    """Sign-in required, and the actor must hold at least one of ``actions``."""

    def decorate(view: V) -> V:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not any(can(request.user, a) for a in actions):
                raise PermissionDenied
            response: HttpResponse = view(request, *args, **kwargs)
            return response

        wrapped.wellcheck_rule = tuple(actions)  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorate


def signed_in(view: V) -> V:
    """Any signed-in user (pages whose content is restricted further by the door)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        response: HttpResponse = view(request, *args, **kwargs)
        return response

    wrapped.wellcheck_rule = ("signed_in",)  # type: ignore[attr-defined]
    return wrapped  # type: ignore[return-value]


def public(view: V) -> V:
    """No sign-in. Every public view must also be listed in PUBLIC_ROUTES (reviewed on purpose)."""
    view.wellcheck_rule = ("public",)  # type: ignore[attr-defined]
    return view


# URL names reachable without signing in. Adding one is a security decision: say why.
PUBLIC_ROUTES: dict[str, str] = {
    "accounts:login": "the sign-in page",
    "accounts:logout": "signing out needs no rights",
    # transparency: public by design (issue 7); only disclosure-controlled aggregates, no records
    "transparency:index": "list of agencies that publish wellness-check reports",
    "transparency:agency": "list of an agency's published periods",
    "transparency:report": "public report page: suppressed (and optionally noised) counts only",
    "transparency:report_csv": "open-data CSV of the same protected counts",
    "transparency:report_json": "open-data JSON of the same protected counts",
    "transparency:dictionary": "the data dictionary of the open-data files",
    "accounts:password_reset": "asking for a reset link: same answer for any address",
    "accounts:password_reset_done": "the 'if the address is known, a link was sent' page",
    "accounts:password_reset_confirm": "the e-mailed link carries a single-use signed token",
    "accounts:password_reset_complete": "the 'password changed, sign in' page",
}


class ActionPermission(BasePermission):
    """DRF: the view's ``required_actions[method]`` or ``required_action`` must be held."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        per_method: dict[str, Action] = getattr(view, "required_actions", {})
        action = per_method.get(request.method, getattr(view, "required_action", None))
        if action is None:
            return False
        return can(request.user, action)
