"""The three real extracts: counts equal the independent counts in the data READMEs."""

from __future__ import annotations

import pytest

from wellcheck.accounts.models import Agency
from wellcheck.checks.models import CheckDetail, WellnessCheck
from wellcheck.intake.models import CallCategory, CallCount
from wellcheck.intake.testing import import_file, ledger_calls, ledger_entries, real_file

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _need_data() -> None:
    if not real_file("san_diego").exists():
        pytest.skip("the real data folder ../shared/data/cfs is absent")


def _agency(slug: str) -> Agency:
    return Agency.objects.create(name=slug, slug=slug)


def _counts(agency: Agency) -> tuple[int, int]:
    checks = WellnessCheck.objects.filter(agency=agency)
    return (
        checks.filter(mental_health_related=False).count(),
        checks.filter(mental_health_related=True).count(),
    )


def test_san_diego_counts_and_second_import_adds_nothing() -> None:
    agency = _agency("sdpd")
    first = import_file(agency, "san_diego")
    s = first.summary
    assert s["rows_read"] == 26595
    assert s["rows_rejected"] == 0
    assert s["warnings"]["no call type; counted as another call"] == 19
    assert s["created_by_category"] == {"welfare_check": 1135, "mental_health": 730}
    assert _counts(agency) == (1135, 730)
    assert s["other_calls_counted"] == 26595 - 1135 - 730
    assert CheckDetail.objects.filter(check_record__agency=agency).count() == 1865
    total = sum(CallCount.objects.filter(agency=agency).values_list("calls", flat=True))
    assert total == 26595
    before = (WellnessCheck.objects.count(), ledger_calls(), total)
    second = import_file(agency, "san_diego")
    t = second.summary
    assert t["checks_created"] == 0 and t["checks_updated"] == 0
    assert t["checks_unchanged"] == 1865
    assert t["other_calls_counted"] == 0
    after_total = sum(CallCount.objects.filter(agency=agency).values_list("calls", flat=True))
    assert (WellnessCheck.objects.count(), ledger_calls(), after_total) == before


def test_milwaukee_counts_and_out_of_bounds_coordinates() -> None:
    agency = _agency("mpd")
    result = import_file(agency, "milwaukee")
    s = result.summary
    assert s["rows_read"] == 33968
    assert s["created_by_category"] == {"welfare_check": 918, "mental_health": 0}
    assert _counts(agency) == (918, 0)
    assert s["warnings"]["coordinates outside the profile's bounds; dropped"] == 472
    assert s["rows_warned"] == 472
    details = CheckDetail.objects.filter(check_record__agency=agency)
    assert details.count() == 918
    with_coords = [d for d in details if d.latitude is not None]
    assert with_coords and all(42.8 <= float(d.latitude) <= 43.3 for d in with_coords)


def test_berkeley_counts_child_welfare_and_keyless_rows() -> None:
    agency = _agency("bpd")
    result = import_file(agency, "berkeley")
    s = result.summary
    assert s["rows_read"] == 25151
    assert s["created_by_category"] == {"welfare_check": 906, "mental_health": 454}
    assert _counts(agency) == (906, 454)
    # 300WI is child welfare: counted as another call, never a check.
    child = [e for e in ledger_entries(agency) if e[1] == "300WI"]
    assert len(child) == 12
    assert {e[0] for e in child} == {CallCategory.OTHER}
    assert not any(e[4] for e in child)  # no check for any of them
    no_number = "no incident number; key derived from time, call type and address"
    assert s["warnings"][no_number] == 687
    assert ledger_calls(agency) == 25151
    again = import_file(agency, "berkeley").summary
    assert again["checks_created"] == 0 and again["other_calls_counted"] == 0
    assert ledger_calls(agency) == 25151
