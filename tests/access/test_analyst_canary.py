"""An analyst can never obtain a name, a birth date, an exact address or a narrative: not from a
page, the API, an export or an error message. A canary person is planted; every route is asked,
with the variants a curious analyst would try, and no response may contain any canary string."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from wellcheck.accounts.manifest import RouteInfo, iter_routes
from wellcheck.testing.personas import World

from .conftest import CANARY_STRINGS, Records, client_for
from .test_route_rules import _url

# What one asks for: each identifying field by the names an API or export might use.
ASKS = [
    "",
    "?format=json",
    "?format=csv",
    "?export=csv",
    "?download=1",
    "?fields=person,given_name,family_name,date_of_birth,address,narrative,incident_number",
    "?include=detail&expand=person",
    "?reason=other&reason_text=analysis%20work",
    "?person=1&narrative=1&address=1",
    "?page=999999",
    "?limit=100000",
    "?group_by=address",
    "?group_by=person",
    "?date_from=not-a-date",
]


def _leaks(response: Any) -> list[str]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8", "replace")
    headers = json.dumps(dict(response.items()))
    return [s for s in CANARY_STRINGS if s in text or s in headers]


def _ask_everything(client: Client, world: World, records: Records) -> tuple[list[str], int]:
    leaks: list[str] = []
    asked = 0
    routes: list[RouteInfo] = [r for r in iter_routes() if r.name != "accounts:logout"]
    for route in routes:
        url = _url(route, world, records)
        plain = client.get(url)
        asked += 1
        if _leaks(plain):
            leaks.append(f"GET {url} -> {plain.status_code}: {_leaks(plain)}")
        # A route that refuses the plain request (403, 404, 405) refuses its variants the same
        # way: the rule and the door do not read the query string. The others get every variant.
        variants = ASKS[1:] if plain.status_code not in (403, 404, 405) else []
        attempts = [("GET", url + ask) for ask in variants] + [("POST", url)]
        for method, target in attempts:
            if method == "GET":
                response = client.get(target)
            else:
                response = client.post(target, {"reason": "other", "reason_text": "analysis"})
            asked += 1
            found = _leaks(response)
            if found:
                leaks.append(f"{method} {target} -> {response.status_code}: {found}")
    return leaks, asked


def test_the_canary_is_really_there(world: World, records: Records) -> None:
    """Before: the officer who recorded it sees the canary (the test can fail)."""
    page = client_for(world.officer_a).get(f"/checks/{records.check.pk}/")
    assert page.status_code == 200
    assert _leaks(page), (
        "the canary must be visible to its own officer, or this test proves nothing"
    )


def test_an_analyst_never_sees_identity_anywhere(world: World, records: Records) -> None:
    analyst = client_for(world.analyst)
    leaks, asked = _ask_everything(analyst, world, records)
    assert asked > 2 * len(list(iter_routes()))
    assert not leaks, "\n".join(leaks)
    # Error pages too: an unknown record, a bad id, a bad API body.
    for url in (
        "/checks/00000000-0000-0000-0000-000000000000/",
        "/api/v1/checks/not-a-uuid/",
        f"/api/v1/checks/{records.check.pk}/?reason=bogus",
    ):
        assert not _leaks(analyst.get(url))
    assert not _leaks(analyst.post("/api/v1/checks/", "{bad json", content_type="application/json"))


def test_an_analyst_cannot_break_the_glass(world: World, records: Records) -> None:
    analyst = client_for(world.analyst)
    response = analyst.post(
        "/accounts/break-glass/",
        {"check_id": str(records.check.pk), "reason_code": "life_at_risk", "reason_text": "x" * 20},
    )
    assert response.status_code == 403
    assert not _leaks(analyst.get(f"/checks/{records.check.pk}/"))


def test_an_analyst_with_a_token_sees_nothing_either(world: World, records: Records) -> None:
    from wellcheck.accounts.services import token_issue

    _, raw = token_issue(actor=None, user=world.analyst, name="analysis")
    client = Client(HTTP_AUTHORIZATION=f"Token {raw}")
    for url in ("/api/v1/checks/", f"/api/v1/checks/{records.check.pk}/", "/api/v1/schema/"):
        for ask in ASKS:
            assert not _leaks(client.get(url + ask)), url + ask
