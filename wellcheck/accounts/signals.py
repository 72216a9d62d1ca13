"""Audit events for sign-in, failure and sign-out, and the session registration on sign-in.

Django sends these signals from ``login()``, ``authenticate()`` and ``logout()`` (pages, the test
client and the API token guard alike), so no path can sign in without its event.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from wellcheck.accounts.sessions import session_forget, session_register
from wellcheck.audit.events import EventType
from wellcheck.audit.services import audit_record, audit_record_failure


def _component(request: Any) -> str:
    path = getattr(request, "path", "") or ""
    return "api" if path.startswith("/api/") else "web"


@receiver(user_logged_in, dispatch_uid="wellcheck_signed_in")
def on_signed_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    ended: list[str] = []
    if request is not None and hasattr(request, "session"):
        ended = session_register(user=user, session=request.session)
    audit_record(
        actor=user,
        event_type=EventType.SIGN_IN_SUCCESS,
        target=user,
        component=_component(request),
        details={"factor": "password", "sessions_ended": len(ended)},
    )


@receiver(user_login_failed, dispatch_uid="wellcheck_sign_in_failed")
def on_sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any
) -> None:
    from wellcheck.accounts.lockout import TOKEN_CREDENTIAL
    from wellcheck.accounts.models import User

    username = str(credentials.get("username") or "")
    # The attempted name is not written (it may be a mistyped password); the account is, if known.
    user = User.objects.filter(username=username).only("pk", "agency_id").first()
    audit_record_failure(
        actor=None,
        event_type=EventType.SIGN_IN_FAILURE,
        target_type="accounts.user" if user else "",
        target_id=str(user.pk) if user else "",
        agency_id=user.agency_id if user else None,
        component=_component(request),
        details={
            "factor": "token" if username == TOKEN_CREDENTIAL else "password",
            "locked_out": bool(getattr(request, "axes_locked_out", False)),
        },
    )


@receiver(user_logged_out, dispatch_uid="wellcheck_signed_out")
def on_signed_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        session_forget(session_key=request.session.session_key)
    if user is None:
        return
    audit_record(
        actor=user,
        event_type=EventType.SIGN_OUT,
        target=user,
        component=_component(request),
        reason=getattr(request, "_wc_logout_reason", "signed out"),
    )
