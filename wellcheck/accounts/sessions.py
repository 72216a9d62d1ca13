"""Session rules (CJIS 5.5.5 idle lock, 5.5.2.2 concurrent sessions), enforced server-side.

* Idle lock: the time of the last request is kept in the session; a request that comes more than
  ``WELLCHECK_SESSION_IDLE_SECONDS`` after it ends the session (the check uses Django's clock, so
  a test moves the clock rather than waiting).
* One active session per user unless the agency allows more (``Agency.max_sessions``): a new
  sign-in deletes the oldest sessions beyond the limit from the session store (a server-side
  store: the database by default), so their cookies no longer sign anyone in.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from wellcheck.accounts.models_access import UserSession

LAST_SEEN_KEY = "_wc_last_seen"


def _store() -> Any:
    return import_module(settings.SESSION_ENGINE).SessionStore


@transaction.atomic
def session_register(*, user: Any, session: Any) -> list[str]:
    """Register the session just signed in; end the oldest beyond the agency's limit.

    Returns the keys of the sessions ended.
    """
    if session.session_key is None:
        session.save()
    key = session.session_key
    session[LAST_SEEN_KEY] = timezone.now().timestamp()
    UserSession.objects.update_or_create(session_key=key, defaults={"user": user})
    agency = getattr(user, "agency", None)
    limit = max(1, agency.max_sessions if agency is not None else 1)
    others = list(
        UserSession.objects.select_for_update()
        .filter(user=user)
        .exclude(session_key=key)
        .order_by("-started_at", "-pk")
    )
    ended = [row.session_key for row in others[limit - 1 :]]
    if ended:
        UserSession.objects.filter(session_key__in=ended).delete()
        store = _store()
        for old in ended:
            store(session_key=old).delete()
    return ended


def session_forget(*, session_key: str | None) -> None:
    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()


def idle_expired(session: Any) -> bool:
    """True when the session has been idle longer than allowed. Marks it seen otherwise."""
    now = timezone.now().timestamp()
    last = session.get(LAST_SEEN_KEY)
    if last is not None and now - float(last) > settings.WELLCHECK_SESSION_IDLE_SECONDS:
        return True
    session[LAST_SEEN_KEY] = now
    return False
