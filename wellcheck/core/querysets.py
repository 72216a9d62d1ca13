"""The one door to records: ``Model.objects.restrict(actor, action)``.

Every records model uses :class:`RestrictedQuerySet`. A model declares how a scope maps to a
filter by implementing ``scope_filter(actor, scope)``; the action's scope for the actor comes from
the permission manifest (``wellcheck.accounts.permissions``). No grant means an empty queryset,
so callers answer 404, never 403, for a record the actor may not see.

Break the glass: for the read actions, an actor's unexpired emergency accesses
(``wellcheck.accounts.breakglass``) are ORed into the filter of the models registered there, so a
record opened in an emergency is reachable through the same door for a limited time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from wellcheck.accounts.models import User
    from wellcheck.accounts.permissions import Action, Scope

M = TypeVar("M", bound=models.Model)


class Restrictable(Protocol):
    @classmethod
    def scope_filter(cls, actor: User, scope: Scope) -> Q: ...


class RestrictedQuerySet(models.QuerySet[M]):
    def restrict(self, actor: Any, action: Action) -> RestrictedQuerySet[M]:
        from wellcheck.accounts.breakglass import break_glass_filter
        from wellcheck.accounts.permissions import scope_for

        if actor is None or not getattr(actor, "is_authenticated", False):
            return self.none()
        if not getattr(actor, "is_active", False) or getattr(actor, "agency_id", None) is None:
            return self.none()
        scope_filter = getattr(self.model, "scope_filter", None)
        if scope_filter is None:
            raise TypeError(f"{self.model.__name__} has no scope_filter(); it cannot be restricted")
        scope = scope_for(actor, action)
        condition = scope_filter(actor, scope) if scope is not None else None
        emergency = break_glass_filter(self.model, actor, action)
        if emergency is not None:
            # Bounded to the actor's agency whatever the model's own filter says.
            emergency &= Q(agency_id=actor.agency_id)
            condition = emergency if condition is None else (condition | emergency)
        if condition is None:
            return self.none()
        return self.filter(condition)
