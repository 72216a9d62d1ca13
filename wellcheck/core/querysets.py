"""The one door to records: ``Model.objects.restrict(actor, action)``.

Every records model uses :class:`RestrictedQuerySet`. A model declares how a scope maps to a
filter by implementing ``scope_filter(actor, scope)``; the action's scope for the actor comes from
the permission manifest (``wellcheck.accounts.permissions``). No grant means an empty queryset,
so callers answer 404, never 403, for a record the actor may not see.
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
        from wellcheck.accounts.permissions import scope_for

        if actor is None or not getattr(actor, "is_authenticated", False):
            return self.none()
        if not getattr(actor, "is_active", False):
            return self.none()
        scope = scope_for(actor, action)
        if scope is None:
            return self.none()
        scope_filter = getattr(self.model, "scope_filter", None)
        if scope_filter is None:
            raise TypeError(f"{self.model.__name__} has no scope_filter(); it cannot be restricted")
        return self.filter(scope_filter(actor, scope))
