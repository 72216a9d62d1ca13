"""Template helpers for the check pages: menu rights and durations."""

from __future__ import annotations

from typing import Any

from django import template

from wellcheck.accounts.permissions import can

register = template.Library()


@register.filter(name="can")
def can_filter(user: Any, action: str) -> bool:
    """``{% if user|can:"check.create" %}``: the user holds the action at some scope (menus only;
    the door still decides per record)."""
    return bool(getattr(user, "is_authenticated", False)) and can(user, action)


@register.filter
def minutes(seconds: int | None) -> str:
    """A duration in seconds as minutes for people ("12 min", "1 h 5 min")."""
    if seconds is None:
        return "—"
    total = round(seconds / 60)
    if total < 60:
        return f"{total} min"
    return f"{total // 60} h {total % 60} min"


@register.filter
def yes_no(value: bool | None) -> str:
    return "Not recorded" if value is None else ("Yes" if value else "No")
