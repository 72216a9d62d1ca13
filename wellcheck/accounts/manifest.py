"""The route manifest: every URL pattern with the access rule its view declares.

``iter_routes()`` walks the URL resolver (pages and API). ``RouteInfo.rule`` is what the view
declared: ``("public",)``, ``("signed_in",)``, a tuple of actions (``@requires``), or for a DRF view
the action per HTTP method (``ActionPermission`` with ``required_action(s)``). None means the view
declared nothing, which the manifest test refuses (tests/access/test_route_rules.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.permissions import AllowAny, IsAuthenticated

from wellcheck.accounts.permissions import Action
from wellcheck.core.routes import ActionPermission

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


@dataclass
class RouteInfo:
    name: str  # "namespace:name", or the pattern when unnamed
    route: str  # e.g. "checks/<uuid:check_id>/"
    callback: Callable[..., Any]
    kwargs: dict[str, str] = field(default_factory=dict)  # kwarg -> converter name
    is_api: bool = False
    rule: tuple[str, ...] | None = None
    api_actions: dict[str, str] = field(default_factory=dict)  # method -> action (DRF)
    methods: tuple[str, ...] = ("GET",)

    @property
    def is_public(self) -> bool:
        return self.rule == ("public",)

    def actions_for(self, method: str) -> tuple[str, ...]:
        if self.is_api:
            action = self.api_actions.get(method)
            return (action,) if action else ()
        if self.rule in (None, ("public",), ("signed_in",)):
            return ()
        return tuple(self.rule or ())


def _converter_name(converter: Any) -> str:
    return type(converter).__name__.replace("Converter", "").lower()


def _walk(
    patterns: list[Any], prefix: str, namespace: str, converters: dict[str, str]
) -> Iterator[RouteInfo]:
    for entry in patterns:
        route = str(entry.pattern)
        found = {k: _converter_name(v) for k, v in getattr(entry.pattern, "converters", {}).items()}
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, prefix + route, ns, {**converters, **found})
        elif isinstance(entry, URLPattern):
            name = entry.name or prefix + route
            if entry.name and namespace:
                name = f"{namespace}:{entry.name}"
            info = RouteInfo(
                name=name,
                route=prefix + route,
                callback=entry.callback,
                kwargs={**converters, **found},
            )
            _describe(info)
            yield info


def _describe(info: RouteInfo) -> None:
    cls = getattr(info.callback, "cls", None)
    if cls is None:  # a function view (or a Django class view's as_view())
        info.rule = getattr(info.callback, "wellcheck_rule", None)
        info.is_api = info.route.startswith("api/")
        return
    info.is_api = True
    actions = getattr(info.callback, "actions", None)  # a ViewSet's method -> handler map
    methods = [m.upper() for m in (actions or {})] or [
        m.upper() for m in cls.http_method_names if m not in ("options", "head") and hasattr(cls, m)
    ]
    info.methods = tuple(methods)
    declared = getattr(cls, "wellcheck_rule", None)
    permissions = list(getattr(cls, "permission_classes", []))
    if declared is not None:
        info.rule = tuple(declared)
        return
    if any(isinstance(p, type) and issubclass(p, ActionPermission) for p in permissions):
        per_method: dict[str, Any] = dict(getattr(cls, "required_actions", {}) or {})
        default = getattr(cls, "required_action", None)
        info.api_actions = {
            m: str(Action(str(per_method.get(m, default))))
            for m in methods
            if per_method.get(m, default) is not None
        }
        # Every method the view answers must have its action; otherwise the rule is incomplete.
        info.rule = ("api",) if set(info.api_actions) == set(methods) and methods else None
        return
    if permissions and all(p is AllowAny for p in permissions):
        info.rule = ("public",)
    elif permissions and all(
        isinstance(p, type) and issubclass(p, IsAuthenticated) for p in permissions
    ):
        info.rule = ("signed_in",)


def iter_routes() -> Iterator[RouteInfo]:
    resolver = get_resolver()
    yield from _walk(resolver.url_patterns, "", "", {})
