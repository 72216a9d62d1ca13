"""A reason for every look at a person (UK DPA 2018 s.62), the person variant of
``accounts/looks.py``: the reason is asked once, kept in the session for
``WELLCHECK_LOOK_REASON_MINUTES`` for that person, and written into ``person.viewed``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone

SESSION_KEY = "_wc_person_look_reasons"


def person_look_reason(request: Any, person_id: object) -> str | None:
    """The stored reason for reading this person, or None when one must be asked."""
    stored = request.session.get(SESSION_KEY, {}).get(str(person_id))
    if stored and float(stored["until"]) > timezone.now().timestamp():
        return str(stored["reason"])
    return None


def person_look_remember(request: Any, person_id: object, reason: str) -> None:
    now = timezone.now().timestamp()
    reasons = {
        k: v for k, v in request.session.get(SESSION_KEY, {}).items() if float(v["until"]) > now
    }
    reasons[str(person_id)] = {
        "reason": reason,
        "until": now + settings.WELLCHECK_LOOK_REASON_MINUTES * 60,
    }
    request.session[SESSION_KEY] = reasons
