"""Responders see earlier checks at the same address (last 12 months, within their access)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from wellcheck.checks.inputs import CheckInput
from wellcheck.checks.services import check_create
from wellcheck.testing.personas import World, recent


def _check(world: World, actor, unit, address: str, days_ago: int):
    return check_create(
        actor=actor,
        data=CheckInput(
            unit_id=unit.pk, received_at=recent() - dt.timedelta(days=days_ago), address=address
        ),
    )


def test_detail_lists_earlier_checks_at_the_same_address(client, world: World) -> None:
    older = _check(world, world.officer_a, world.unit_a, "100 block Main St", 30)
    too_old = _check(world, world.officer_a, world.unit_a, "100 BLOCK MAIN ST.", 400)
    elsewhere = _check(world, world.officer_a, world.unit_a, "200 block Main St", 10)
    other_unit = _check(world, world.officer_b, world.unit_b, "100 Block Main St", 20)
    current = _check(world, world.officer_a, world.unit_a, "100  block main st", 0)
    client.force_login(world.officer_a)
    page = client.get(reverse("checks:detail", args=[current.pk])).content.decode()
    assert reverse("checks:detail", args=[older.pk]) in page
    for hidden in (too_old, elsewhere, other_unit):  # out of window, other address, other unit
        assert reverse("checks:detail", args=[hidden.pk]) not in page
    lone = client.get(reverse("checks:detail", args=[elsewhere.pk])).content.decode()
    assert "Earlier checks at this address" in lone and "None that you may see." in lone
    assert "None that you may see." not in page
