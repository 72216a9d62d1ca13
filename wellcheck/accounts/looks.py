"""A reason for every look (UK DPA 2018 s.62): opening the identifying part of a check outside
one's own assigned work needs a stated justification, written into the read's audit event.

Pages: :func:`look_reason` returns the reason to write into ``check.viewed`` (empty for one's own
work), or None when the page must first send the actor to :func:`reason_url` (a short form; the
reason is then kept in the session for ``WELLCHECK_LOOK_REASON_MINUTES`` for that check).
The API: :func:`api_look_reason` reads ``?reason=<code>`` (``&reason_text=...``) or the
``X-Access-Reason`` header and raises :class:`ReasonRequired` (428) when it is missing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import APIException

SESSION_KEY = "_wc_look_reasons"
OWN_WORK = "own assigned work"
REASONS: dict[str, str] = {
    "follow_up": "Follow-up or referral I am working on",
    "supervision": "Supervising this officer or case",
    "current_call": "A current call at this address or about this person",
    "records_request": "Records, access or court request",
    "other": "Other (explain)",
}


class ReasonRequired(APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_code = "reason_required"
    default_detail = (
        "Reading the identifying part of this check needs a reason: add ?reason=<code> "
        f"(one of {', '.join(REASONS)}; 'other' also needs &reason_text=...) "
        "or the header X-Access-Reason: <code>: <text>."
    )


def is_own_work(actor: Any, check: Any) -> bool:
    if check.created_by_id == actor.pk or check.assigned_to_id == actor.pk:
        return True
    detail = getattr(check, "detail", None) if hasattr(check, "detail") else None
    return bool(detail is not None and detail.responders.filter(pk=actor.pk).exists())


def access_reason_required(actor: Any, check: Any) -> bool:
    """True when opening this check's identifying part needs a stated reason."""
    return not is_own_work(actor, check)


def format_reason(code: str, text: str) -> str | None:
    """``code: text`` when valid, else None (unknown code, or 'other' without words)."""
    code, text = code.strip(), " ".join(text.split())[:300]
    if code not in REASONS:
        return None
    if code == "other" and len(text) < 5:
        return None
    return f"{code}: {text}" if text else code


def _emergency_reason(actor: Any, check: Any) -> str | None:
    from wellcheck.accounts.breakglass import active_check_ids
    from wellcheck.accounts.models_access import BreakGlassAccess

    if check.pk not in active_check_ids(actor):
        return None
    access = (
        BreakGlassAccess.objects.filter(actor_id=actor.pk, check_record_id=check.pk)
        .order_by("-started_at")
        .first()
    )
    return f"break_glass: {access.reason_code}: {access.reason_text}" if access else None


def look_reason(request: Any, check: Any) -> str | None:
    """The reason to record for this read, "" for own work, None when one must be asked."""
    actor = request.user
    if not access_reason_required(actor, check):
        return ""
    emergency = _emergency_reason(actor, check)
    if emergency:
        return emergency
    stored = request.session.get(SESSION_KEY, {}).get(str(check.pk))
    if stored and float(stored["until"]) > timezone.now().timestamp():
        return str(stored["reason"])
    return None


def look_reason_remember(request: Any, check: Any, reason: str) -> None:
    reasons = {
        k: v
        for k, v in request.session.get(SESSION_KEY, {}).items()
        if float(v["until"]) > timezone.now().timestamp()
    }
    until = timezone.now().timestamp() + settings.WELLCHECK_LOOK_REASON_MINUTES * 60
    reasons[str(check.pk)] = {"reason": reason, "until": until}
    request.session[SESSION_KEY] = reasons


def reason_url(check: Any, next_url: str) -> str:
    return f"{reverse('accounts:look_reason', args=[check.pk])}?{urlencode({'next': next_url})}"


def shows_identity(actor: Any, check: Any) -> bool:
    """Would a read of this check show its identifying part to the actor? (One query.)"""
    from wellcheck.accounts.permissions import Action
    from wellcheck.checks.models import WellnessCheck

    return not check.is_tally and (
        WellnessCheck.objects.restrict(actor, Action.CHECK_VIEW_IDENTITY)
        .filter(pk=check.pk)
        .exists()
    )


def api_look_reason(request: Any, check: Any) -> str:
    """The reason for an API read ("own assigned work" for one's own, "" when no identity would
    be shown); raises :class:`ReasonRequired` (428) when a reason is needed and missing."""
    actor = request.user
    if not access_reason_required(actor, check):
        return OWN_WORK
    if not shows_identity(actor, check):
        return ""
    emergency = _emergency_reason(actor, check)
    if emergency:
        return emergency
    params = getattr(request, "query_params", request.GET)
    header = request.headers.get("X-Access-Reason", "")
    if params.get("reason"):
        reason = format_reason(params.get("reason", ""), params.get("reason_text", ""))
    elif header:
        code, _, text = header.partition(":")
        reason = format_reason(code, text)
    else:
        reason = None
    if reason is None:
        raise ReasonRequired()
    return reason


def require_look_reason(request: Any, check: Any) -> Any:
    """For a page about to show a check's identifying part: the reason to write into
    ``check.viewed`` (a str; "own assigned work" for one's own), or a redirect to the reason form.

    No reason is asked where no identity would be shown (a tally, or no identity right in scope).
    """
    from django.shortcuts import redirect

    reason = look_reason(request, check)
    if reason is not None:
        return reason or OWN_WORK
    if not shows_identity(request.user, check):
        return ""
    return redirect(reason_url(check, request.get_full_path()))
