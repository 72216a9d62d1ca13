"""Resource-need indicators: the Poisson test's numbers, the rising-week flag, and where
mental-health demand concentrates (area x time of day)."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from django.core.management import CommandError, call_command

from wellcheck.insights.filters import AreaScope, Filters
from wellcheck.insights.models import RollupCell
from wellcheck.insights.selectors import make_context as context
from wellcheck.insights.selectors import mh_demand, rising
from wellcheck.insights.stats import poisson_upper_tail, rise_test
from wellcheck.testing.personas import World

from .test_rollups import LA, make_check


def exact_tail(x: int, lam: float) -> float:
    return 1 - sum(math.exp(-lam) * lam**i / math.factorial(i) for i in range(x))


@pytest.mark.parametrize(("x", "lam"), [(10, 3.0), (1, 0.5), (25, 12.0), (130, 100.0)])
def test_poisson_tail_matches_the_definition(x: int, lam: float) -> None:
    assert poisson_upper_tail(x, lam) == pytest.approx(exact_tail(x, lam), rel=1e-9, abs=1e-15)


def test_poisson_tail_known_value_and_large_rates() -> None:
    assert poisson_upper_tail(10, 3.0) == pytest.approx(0.0011025, rel=1e-4)
    assert poisson_upper_tail(0, 5.0) == 1.0
    assert 0 < poisson_upper_tail(1200, 1000.0) < 1e-8  # no underflow to a wrong 0 or nan


def test_rise_test_flags_only_significant_rises() -> None:
    assert rise_test(12, [2, 1, 2, 3, 2, 1, 2, 2]).flagged
    assert not rise_test(4, [0] * 8).flagged  # below the minimum count
    assert not rise_test(6, [5, 6, 4, 5, 7, 5, 6, 5]).flagged  # ordinary week
    t = rise_test(3, [5] * 8)
    assert not t.flagged and t.p_value is None  # not above baseline: not tested


def test_rising_panel_flags_the_spike_week(world: World) -> None:
    monday = dt.date(2023, 1, 2)
    for week in range(8):  # one check a week for eight weeks
        day = monday + dt.timedelta(weeks=week)
        make_check(world, dt.datetime(day.year, day.month, day.day, 10, tzinfo=LA))
    spike = monday + dt.timedelta(weeks=8)  # 27 Feb 2023
    for i in range(9):
        make_check(world, dt.datetime(spike.year, spike.month, spike.day, 1 + i, tzinfo=LA))
    areas = AreaScope(world.analyst)
    ctx = context(
        world.analyst, Filters(first=dt.date(2023, 1, 1), last=dt.date(2023, 3, 1)), areas
    )
    rows = rising(ctx).rows
    assert [r[:4] for r in rows] == [["D1 District 1", "2023-02-27", 9, 1.0]]
    assert float(rows[0][4]) < 0.01


def test_mental_health_demand_by_area_and_hour_block(world: World) -> None:
    make_check(world, dt.datetime(2023, 1, 3, 22, tzinfo=LA), mental_health_related=True)
    make_check(world, dt.datetime(2023, 1, 3, 23, tzinfo=LA), mental_health_related=True)
    make_check(
        world,
        dt.datetime(2023, 1, 4, 9, tzinfo=LA),
        unit_id=world.unit_b.pk,
        mental_health_related=True,
    )
    make_check(world, dt.datetime(2023, 1, 4, 10, tzinfo=LA))  # not mental-health related
    areas = AreaScope(world.analyst)
    f = Filters(first=dt.date(2023, 1, 1), last=dt.date(2023, 1, 1), area_id=world.district.pk)
    rows = mh_demand(context(world.analyst, f, areas)).rows
    assert rows == [["A Beat A", 0, 0, 0, 0, 0, 2], ["B Beat B", 0, 0, 1, 0, 0, 0]]


def test_refresh_command_rebuilds(world: World) -> None:
    make_check(world, dt.datetime(2023, 1, 3, 22, tzinfo=LA))
    call_command("refresh-insights".replace("-", "_"), "--all")
    assert RollupCell.objects.filter(dim="all", grain="month", area_id=0).get().n == 1
    with pytest.raises(CommandError, match="no agency"):
        call_command("refresh_insights", "--agency", "nope")
