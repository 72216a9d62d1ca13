"""Which data key a row's encrypted values use.

A person's own data, and the identifying detail of a check linked to a person, use that person's
key (``person:<uuid>``), so erasing the person crypto-shreds all of it. A model may define
``crypto_scope()``; otherwise the registry below decides; everything else uses ``global``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

GLOBAL = "global"


def person_scope(person_id: object) -> str:
    return f"person:{person_id}"


def _detail_scope(obj: Any) -> str:
    return person_scope(obj.person_id) if obj.person_id else GLOBAL


def _via_person(obj: Any) -> str:
    return person_scope(obj.person_id) if getattr(obj, "person_id", None) else GLOBAL


REGISTRY: dict[str, Callable[[Any], str]] = {
    "people.person": lambda obj: person_scope(obj.pk),
    "checks.checkdetail": _detail_scope,
}


def scope_of(obj: Any) -> str:
    custom = getattr(obj, "crypto_scope", None)
    if callable(custom):
        return str(custom())
    rule = REGISTRY.get(obj._meta.label_lower)
    if rule is not None:
        return rule(obj)
    return _via_person(obj)


def scope_for_label(model_label: str, *, person_id: object = None) -> str:
    """The scope for a row written outside the ORM (bulk import), from what the caller knows."""
    if model_label.lower() == "people.person":
        raise ValueError("A person's scope is their own id: use person_scope(pk).")
    return person_scope(person_id) if person_id else GLOBAL
