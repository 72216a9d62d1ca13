"""Rollups kept current by the services, and panels that count what the base table holds."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from wellcheck.checks.inputs import CheckInput
from wellcheck.checks.models import WellnessCheck
from wellcheck.checks.services import check_create, check_mark_mental_health, check_update
from wellcheck.insights.filters import AreaScope, Filters
from wellcheck.insights.models import DirtyDay, RollupCell
from wellcheck.insights.rollups import rollups_mark_dirty, rollups_rebuild_all, rollups_refresh
from wellcheck.insights.selectors import PANELS, make_context
from wellcheck.testing.personas import World

LA = ZoneInfo("America/Los_Angeles")


def make_check(world: World, when: dt.datetime, **over: object):
    values: dict[str, object] = dict(
        unit_id=world.unit_a.pk,
        received_at=when,
        initiator="family",
        reasons=("dementia",),
        outcome="safe_no_action",
        address="100 BLOCK MAIN ST",
        arrived_at=when + dt.timedelta(minutes=10),
        cleared_at=when + dt.timedelta(minutes=30),
    )
    values.update(over)
    actor = world.officer_b if values["unit_id"] == world.unit_b.pk else world.officer_a
    return check_create(actor=actor, data=CheckInput(**values))  # type: ignore[arg-type]


def panels(world: World, actor=None, **filters: object):
    actor = actor or world.analyst
    areas = AreaScope(actor)
    f = Filters(first=dt.date(2023, 1, 1), last=dt.date(2023, 2, 1), **filters)  # type: ignore[arg-type]
    ctx = make_context(actor, f, areas)
    return {slug: fn(ctx) for slug, fn in PANELS.items()}


def test_service_marks_day_dirty_in_its_transaction_and_refresh_clears_it(world: World) -> None:
    # 23:30 local on 31 Jan is 1 Feb in UTC: the mark and the count follow the agency's day.
    make_check(world, dt.datetime(2023, 1, 31, 23, 30, tzinfo=LA))
    assert list(DirtyDay.objects.values_list("day", flat=True)) == [dt.date(2023, 1, 31)]
    assert rollups_refresh(agency_id=world.agency.pk) == 1
    assert not DirtyDay.objects.exists()
    day = RollupCell.objects.get(area_id=0, grain="day", dim="all")
    assert (day.period, day.n, day.resp_sum, day.resp_n) == (dt.date(2023, 1, 31), 1, 600, 1)


def test_panels_count_by_day_area_and_code(world: World) -> None:
    for i in range(3):
        make_check(world, dt.datetime(2023, 1, 2, 8 + i, tzinfo=LA))
    make_check(
        world,
        dt.datetime(2023, 1, 3, 9, tzinfo=LA),
        unit_id=world.unit_b.pk,
        outcome="mobile_crisis",
        reasons=("mental_health", "suicide_risk"),
        mental_health_related=True,
    )
    make_check(world, dt.datetime(2023, 2, 3, 9, tzinfo=LA), unit_id=world.unit_b.pk)
    p = panels(world)
    assert p["volume_day"].rows == [["2023-01-02", 3], ["2023-01-03", 1], ["2023-02-03", 1]]
    assert p["volume_month"].rows == [["2023-01", 4], ["2023-02", 1]]
    assert p["by_area"].rows == [["D1 District 1", 5]]
    outcomes = dict(p["outcome"].rows)
    assert outcomes == {"Person safe, no action": 4, "Referred to mobile crisis team": 1}
    reasons = dict(p["reason"].rows)
    assert reasons["Dementia or cognitive impairment"] == 4
    assert reasons["Suicide risk or threat"] == 1
    assert p["mental_health"].rows[0] == ["2023-01", 4, 1, 25.0]
    how = {row[0]: row[1:] for row in p["hour_of_week"].rows}
    assert how["Mon"][8] == how["Mon"][9] == how["Mon"][10] == 1  # 2 Jan 2023 was a Monday
    assert dict(p["repeats"].rows)["Same address as a check in the previous 12 months"] == 4
    assert p["response"].extra["mean_response_min"] == pytest.approx(10.0)
    # by district -> beats
    district = panels(world, area_id=world.district.pk)["by_area"].rows
    assert district == [["A Beat A", 3], ["B Beat B", 2]]
    # a cross filter (computed on the fly) agrees with the cube where they overlap
    crossed = panels(world, outcome="mobile_crisis")
    assert crossed["volume_day"].rows == [["2023-01-03", 1]]
    assert dict(crossed["reason"].rows)["Mental-health crisis"] == 1


def test_updates_move_counts_between_days_and_flags(world: World) -> None:
    check = make_check(world, dt.datetime(2023, 1, 5, 12, tzinfo=LA))
    assert panels(world)["volume_day"].rows == [["2023-01-05", 1]]
    data = CheckInput(unit_id=world.unit_a.pk, received_at=dt.datetime(2023, 2, 7, 12, tzinfo=LA))
    check_update(actor=world.officer_a, check=check, data=data)
    check_mark_mental_health(actor=world.officer_a, check=WellnessCheck.objects.get(pk=check.pk))
    p = panels(world)
    assert p["volume_day"].rows == [["2023-02-07", 1]]
    assert p["mental_health"].rows == [["2023-02", 1, 1, 100.0]]


def test_supervisor_sees_only_their_unit(world: World) -> None:
    make_check(world, dt.datetime(2023, 1, 2, 8, tzinfo=LA))
    make_check(world, dt.datetime(2023, 1, 2, 9, tzinfo=LA), unit_id=world.unit_b.pk)
    p = panels(world, actor=world.supervisor_b, area_id=world.unit_b.pk)
    assert p["volume_day"].rows == [["2023-01-02", 1]]
    areas = AreaScope(world.supervisor_b)
    assert areas.allowed == {world.unit_b.pk}


def test_rebuild_all_equals_incremental(world: World) -> None:
    for d in (2, 9, 16):
        make_check(world, dt.datetime(2023, 1, d, 8, tzinfo=LA))
    rollups_refresh(agency_id=world.agency.pk)
    before = sorted(RollupCell.objects.values_list("area_id", "grain", "period", "dim", "key", "n"))
    rollups_rebuild_all(agency_id=world.agency.pk)
    after = sorted(RollupCell.objects.values_list("area_id", "grain", "period", "dim", "key", "n"))
    assert before == after and len(after) > 10


def test_mark_dirty_refuses_naive_datetime(world: World) -> None:
    with pytest.raises(ValueError, match="aware"):
        rollups_mark_dirty(agency_id=world.agency.pk, day=dt.datetime(2023, 1, 1, 8))


def test_whole_years_read_from_year_rows_agree_with_months(world: World) -> None:
    for month, day in ((1, 5), (6, 7), (12, 31), (12, 1)):
        make_check(world, dt.datetime(2022, month, day, 12, tzinfo=LA))
    make_check(world, dt.datetime(2023, 1, 2, 12, tzinfo=LA))
    make_check(world, dt.datetime(2021, 12, 30, 12, tzinfo=LA))
    areas = AreaScope(world.analyst)
    for first, last, expected in (
        (dt.date(2022, 1, 1), dt.date(2022, 12, 1), 4),  # one whole year: year rows only
        (dt.date(2021, 12, 1), dt.date(2023, 1, 1), 6),  # a year plus months on both sides
        (dt.date(2022, 6, 1), dt.date(2023, 1, 1), 4),  # no whole year
    ):
        ctx = make_context(world.analyst, Filters(first=first, last=last), areas)
        by_month = sum(n for _, n in PANELS["volume_month"](ctx).rows)
        by_area = sum(n for _, n in PANELS["by_area"](ctx).rows)
        assert by_month == by_area == expected, (first, last)
    assert RollupCell.objects.filter(grain="year", dim="all", area_id=0).count() == 3
