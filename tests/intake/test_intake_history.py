"""Earlier checks at the same address (12 months, within the access of the actor)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.utils import timezone

from wellcheck.checks.history import months_before, prior_checks_at_address
from wellcheck.checks.inputs import CheckInput
from wellcheck.checks.models import WellnessCheck
from wellcheck.checks.services import check_create
from wellcheck.intake.testing import import_file
from wellcheck.testing.personas import World

HEADER = (
    "incident_num,date_time,day_of_week,address_number_primary,address_dir_primary,"
    "address_road_primary,address_sfx_primary,address_dir_intersecting,"
    "address_road_intersecting,address_sfx_intersecting,call_type,disposition,beat,priority"
)


def _check(world: World, actor_name: str, *, address: str, days_ago: int) -> WellnessCheck:
    actor = getattr(world, actor_name)
    received = timezone.now() - dt.timedelta(days=days_ago)
    data = CheckInput(unit_id=actor.unit_id, received_at=received, address=address)
    return check_create(actor=actor, data=data)


def test_prior_checks_at_same_address_within_access(world: World, tmp_path: Path) -> None:
    now_check = _check(world, "officer_a", address="1900 05TH AVE", days_ago=0)
    earlier = _check(world, "officer_a2", address="1900  05th Ave.", days_ago=90)
    too_old = _check(world, "officer_a", address="1900 05TH AVE", days_ago=400)
    other_unit = _check(world, "officer_b", address="1900 05TH AVE", days_ago=30)
    _check(world, "officer_a", address="1 MAIN ST", days_ago=10)
    # An imported dispatch call at the same block, assigned to beat A by the import.
    when = (timezone.localtime() - dt.timedelta(days=5)).strftime("%Y-%m-%d %H:%M:%S")
    csv_file = tmp_path / "sd.csv"
    csv_file.write_text(f"{HEADER}\nE9,{when},1,1900,,05TH,AVE,,,,CW,K,A,2\n")
    assert import_file(world.agency, "san_diego", csv_file).summary["checks_created"] == 1
    imported = WellnessCheck.objects.get(source="imported")

    seen_by_officer = list(prior_checks_at_address(actor=world.officer_a, check=now_check))
    assert seen_by_officer == [imported, earlier]  # newest first; not too_old, not unit B
    seen_by_records = list(prior_checks_at_address(actor=world.records, check=now_check))
    assert seen_by_records == [imported, other_unit, earlier]
    assert too_old not in seen_by_records
    # An analyst may not see identifying records: nothing, not an error.
    assert list(prior_checks_at_address(actor=world.analyst, check=now_check)) == []
    # Works from an imported check too.
    from_imported = list(prior_checks_at_address(actor=world.officer_a, check=imported))
    assert from_imported == [earlier]


def test_tally_has_no_address_history(consent_world: World) -> None:
    tally = _check(consent_world, "officer_a", address="1900 05TH AVE", days_ago=0)
    assert tally.is_tally
    assert list(prior_checks_at_address(actor=consent_world.officer_a, check=tally)) == []


def test_months_before_clips_to_month_end() -> None:
    moment = dt.datetime(2024, 3, 31, 12, 0, tzinfo=dt.UTC)
    assert months_before(moment, 1) == dt.datetime(2024, 2, 29, 12, 0, tzinfo=dt.UTC)
    assert months_before(moment, 12) == dt.datetime(2023, 3, 31, 12, 0, tzinfo=dt.UTC)
