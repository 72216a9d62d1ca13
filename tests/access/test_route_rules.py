"""Every route declares its rule, and every persona gets the answer the rule and matrix predict.

The expectations are derived, not listed: from the rule a view declares (``@requires``,
``@signed_in``, ``@public``, DRF ``ActionPermission``), the permission manifest (``can``) and the
door (``restrict``) for routes that name a record. A route added without a rule fails the first
test; a view that answers differently from its declared rule fails the matrix.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from wellcheck.accounts.manifest import RouteInfo, iter_routes
from wellcheck.accounts.permissions import can
from wellcheck.checks.models import Code, WellnessCheck
from wellcheck.core.routes import PUBLIC_ROUTES
from wellcheck.testing.personas import World

from .conftest import Records, client_for

ROUTES = list(iter_routes())

# Route kwargs that name a check: the expected answer depends on whether the door lets the persona
# see the check (a record in unit A, so officer_b gets 404).
CHECK_KWARGS = {"check_id", "pk"}
# insights/transparency (issue 7): kwargs that must name something real to reach the view
OWN_KWARGS: dict[str, Any] = {
    "slug": lambda route, world: (
        "volume_day" if route.name == "insights:export" else world.agency.slug
    ),
    "fmt": lambda route, world: "csv",
    "period": lambda route, world: "2023-01",
}


def test_every_route_declares_a_rule() -> None:
    missing = [f"{r.name} ({r.route})" for r in ROUTES if r.rule is None]
    assert not missing, (
        "Routes without a declared access rule (use @requires/@signed_in/@public, or DRF "
        f"ActionPermission with required_action(s) for every method): {missing}"
    )


def test_every_public_route_is_on_the_allowlist() -> None:
    public = {r.name for r in ROUTES if r.is_public}
    assert public, "the sign-in page at least is public"
    not_listed = sorted(public - set(PUBLIC_ROUTES))
    assert not not_listed, f"@public routes missing from PUBLIC_ROUTES: {not_listed}"
    stale = sorted(set(PUBLIC_ROUTES) - public)
    assert not stale, f"PUBLIC_ROUTES names routes that are not public views: {stale}"


def test_the_meta_test_catches_a_route_without_a_rule(settings: Any) -> None:
    """A route added without a rule is seen (the walk is not vacuous)."""
    from django.http import HttpResponse
    from django.urls import clear_url_caches, path

    def naked(request: Any) -> HttpResponse:
        return HttpResponse("hello")

    module = type("M", (), {})()
    module.urlpatterns = [path("naked/", naked, name="naked")]  # type: ignore[attr-defined]
    settings.ROOT_URLCONF = module
    clear_url_caches()
    try:
        found = list(iter_routes())
        assert [r.rule for r in found if r.name == "naked"] == [None]
    finally:
        clear_url_caches()


# Kwargs whose value this test makes real (a record of the world); any other kwarg gets a
# plausible value, and the route may then answer 404 even to a persona it lets in.
REAL_KWARGS = CHECK_KWARGS | {"follow_up_id", "code_id"}
# issue 5 (records officer's pages): kwargs naming a person, a rights request or a review task;
# the answer depends on whether the door lets the persona see that record.
RECORD_KWARGS = {"person_id", "sar_id", "request_id", "review_id", "consent_id"}
REAL_KWARGS = REAL_KWARGS | RECORD_KWARGS
_RECORD_IDS: dict[str, Any] = {}


def _record_ids(world: World, records: Records) -> dict[str, Any]:
    """Real records (made once per test) for RECORD_KWARGS: the canary person, a consent of
    theirs, a subject access request, an erasure request and a due retention review."""
    from wellcheck.checks.inputs import ConsentInput
    from wellcheck.checks.models import CheckDetail
    from wellcheck.people.services import consent_record
    from wellcheck.retention.models import RecordClass, RetentionReview
    from wellcheck.rights.services import rights_request_open, subject_access_open

    if _RECORD_IDS.get("check") == records.check.pk:
        return _RECORD_IDS
    person = CheckDetail.objects.get(pk=records.check.pk).person
    assert person is not None
    consent = consent_record(actor=world.officer_a, person=person, consent=ConsentInput())[0]
    sar = subject_access_open(
        actor=world.records, person=person, requester="The person", identity_checked="ID"
    )
    row = rights_request_open(
        actor=world.records, person=person, kind="restriction", request_text="Matrix"
    )
    review = RetentionReview.objects.create(
        check_record=records.check,
        check_ref=records.check.pk,
        agency_id=records.check.agency_id,
        record_class=RecordClass.NO_SUPPORT,
        due_on=timezone.localdate(),
        created_at=timezone.now(),
    )
    _RECORD_IDS.clear()
    _RECORD_IDS.update(
        check=records.check.pk,
        person_id=person.pk,
        consent_id=consent.pk,
        sar_id=sar.pk,
        request_id=row.pk,
        review_id=review.pk,
    )
    return _RECORD_IDS


def _record_visible(route: RouteInfo, persona: Any, actions: list[Any]) -> bool:
    """Can the persona see every RECORD_KWARGS record the route names, for an action it holds?"""
    from wellcheck.people.models import Person
    from wellcheck.retention.models import RetentionReview
    from wellcheck.rights.models import RightsRequest, SubjectAccessRequest

    models = {
        "person_id": Person,
        "consent_id": Person,  # a consent is reached through its person
        "sar_id": SubjectAccessRequest,
        "request_id": RightsRequest,
        "review_id": RetentionReview,
    }
    for name in RECORD_KWARGS & set(route.kwargs):
        pk = _RECORD_IDS["person_id" if name == "consent_id" else name]
        if not any(
            models[name].objects.restrict(persona, a).filter(pk=pk).exists() for a in actions
        ):
            return False
    return True


def _kwargs(route: RouteInfo, world: World, records: Records) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, converter in route.kwargs.items():
        if name in CHECK_KWARGS:
            values[name] = records.check.pk
        elif name in RECORD_KWARGS:
            values[name] = _record_ids(world, records)[name]
        elif name == "follow_up_id":
            values[name] = records.follow_up.pk
        elif name == "code_id":
            shared = Code.objects.filter(agency__isnull=True).first()
            assert shared is not None
            code, _ = Code.objects.get_or_create(
                agency=world.agency,
                category=shared.category,
                code="matrix_test",
                defaults={"label": "Matrix test code"},
            )
            values[name] = code.pk
        elif name == "slug":
            values[name] = (
                _panel_slug() if route.name.startswith("insights:") else world.agency.slug
            )
        elif name == "fmt":
            values[name] = "csv"
        elif name == "period":
            values[name] = timezone.now().strftime("%Y-%m")
        elif converter == "uuid":
            values[name] = uuid.UUID(int=1)
        elif converter == "int":
            values[name] = 999_999
        else:
            values[name] = "x"
    return values


def _panel_slug() -> str:
    try:
        from wellcheck.insights.views import PANELS
    except ImportError:  # pragma: no cover - the insights app is optional for this test
        return "x"
    return str(next(iter(PANELS)))


def _url(route: RouteInfo, world: World, records: Records) -> str:
    kwargs = _kwargs(route, world, records)
    if ":" in route.name or not route.name.endswith("/"):
        try:
            return reverse(route.name, kwargs=kwargs)
        except Exception:  # noqa: BLE001, S110 - unnamed patterns fall through to the raw route
            pass
    url = "/" + route.route
    for name, value in kwargs.items():
        url = url.replace(f"<{route.kwargs[name]}:{name}>", str(value)).replace(
            f"<{name}>", str(value)
        )
    return url


def _method(route: RouteInfo) -> str:
    return "GET" if "GET" in route.methods else route.methods[0]


def _expected(route: RouteInfo, persona: Any, records: Records) -> str:
    """'login' (anonymous redirect or 401), 'denied' (403), 'hidden' (404) or 'allowed'."""
    if route.is_public:
        return "allowed"
    if persona is None:
        return "login"
    if route.rule == ("signed_in",):
        return "allowed"
    actions = route.actions_for(_method(route))
    held = [a for a in actions if can(persona, a)]
    if not held:
        return "denied"
    if CHECK_KWARGS & set(route.kwargs):
        visible = any(
            WellnessCheck.objects.restrict(persona, a).filter(pk=records.check.pk).exists()
            for a in held
        )
        if not visible:
            return "hidden"
    if RECORD_KWARGS & set(route.kwargs) and not _record_visible(route, persona, held):
        return "hidden"
    return "allowed"


def _outcome(route: RouteInfo, response: Any) -> str:
    status = response.status_code
    if status == 302 and response["Location"].startswith(reverse(settings.LOGIN_URL)):
        return "login"
    if status == 401:
        return "login"
    if status == 403:
        # DRF answers an anonymous API request 403 when no authentication scheme challenges.
        return "denied"
    if status == 404:
        return "hidden"
    if status >= 500:
        return f"error {status}"
    return "allowed"  # 200, 201, 204, 302 (elsewhere), 400, 405, 409, 428


def _request(client: Any, route: RouteInfo, url: str) -> Any:
    method = _method(route)
    if method == "GET":
        response = client.get(url)
        if response.status_code == 405 and not route.is_api:
            # A POST-only page: ask with an empty form, the way a crafted request would.
            response = client.post(url, {})
        return response
    return client.generic(method, url, json.dumps({}), content_type="application/json")


def test_persona_route_matrix(world: World, records: Records) -> None:
    personas: dict[str, Any] = {"anonymous": None, **world.personas()}
    clients = {name: client_for(persona) for name, persona in personas.items()}
    failures: list[str] = []
    cells = 0
    # Signing out ends the session each persona's client shares (and a second sign-in would end
    # it too: one session per user), so that route goes last.
    for route in sorted(ROUTES, key=lambda r: r.name == "accounts:logout"):
        url = _url(route, world, records)
        for name, persona in personas.items():
            expected = _expected(route, persona, records)
            if expected == "login" and route.is_api:
                expected = "login_or_denied"
            response = _request(clients[name], route, url)
            got = _outcome(route, response)
            cells += 1
            ok = (
                got == expected
                # a made-up value for a kwarg this test cannot make real may not exist
                or (expected == "allowed" and got == "hidden" and set(route.kwargs) - REAL_KWARGS)
                or (expected == "login_or_denied" and got in ("login", "denied"))
                # a public page may send a visitor on to sign in (signing out does)
                or (route.is_public and got == "login")
            )
            if not ok:
                failures.append(
                    f"{route.name} {url} as {name}: expected {expected}, got {got} "
                    f"({response.status_code})"
                )
    assert cells == len(ROUTES) * len(personas)
    assert len(ROUTES) > 20
    assert not failures, "\n".join(failures)


def test_matrix_distinguishes_denied_from_hidden(world: World, records: Records) -> None:
    """Spot-check that the derivation is not vacuous: both answers occur for the detail page."""
    detail = next(r for r in ROUTES if r.name == "checks:detail")
    assert _expected(detail, world.officer_b, records) == "hidden"
    assert _expected(detail, world.analyst, records) == "denied"
    assert _expected(detail, world.officer_a, records) == "allowed"
    url = _url(detail, world, records)
    assert client_for(world.officer_b).get(url).status_code == 404
    assert client_for(world.analyst).get(url).status_code == 403
    assert client_for(world.officer_a).get(url).status_code == 200
