"""Random exports, imported for real (hypothesis): a file imported in two overlapping exports
(a first part, then the whole of it, as a year-to-date download grows), in batches of 1 to 10
rows, leaves the database exactly as one import of the whole file in one batch does: the same
ledger, counts, checks, details and units. Any text in the values (the strategies of
test_intake_vectorised), repeated and changed incident numbers, rejected rows, checks that
become other calls and back, tally agencies. Run with 600 examples (batches of 8) and 400 (1 to
10) on SQLite and PostgreSQL when written (40 in the suite). It found that a call changed later
in the same batch did not update the check the batch had just created
(tests/intake/test_intake_bad_input.py has that case)."""

from __future__ import annotations

import itertools
import tempfile
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.intake.test_intake_vectorised import (
    _ANY,
    _BEAT,
    _TIME,
    _TYPE,
    _padded,
    _random_file,
)
from wellcheck.accounts.models import Agency, RecordPolicy
from wellcheck.intake.testing import import_file

pytestmark = pytest.mark.django_db

_NUMBER = st.sampled_from(["E23000001", "E23000002", "E23000003", "E23000950", "E23001004", ""])
_ROW = st.tuples(
    st.one_of(_NUMBER, _padded(_NUMBER)),
    st.one_of(st.sampled_from(["2023-01-01 10:15:00", "2023-03-12 02:30:00"]), _padded(_TIME)),
    st.one_of(st.sampled_from(["CW", "5150", "415", "T"]), _padded(_TYPE)),
    st.one_of(st.sampled_from(["523", "-1"]), _BEAT),
    st.one_of(st.sampled_from(["MAIN", "05TH"]), _ANY),
    st.sampled_from(["K", "A", "R", "CAN", ""]),
)
_AGENCIES = itertools.count()
# Each example imports for real: 40 in the suite (the docstrings give the counts run by hand).
_IMPORTS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _state(agency: Agency) -> dict[str, Any]:
    from wellcheck.checks.models import CheckDetail, WellnessCheck
    from wellcheck.intake.ledger import decode
    from wellcheck.intake.models import CallCount, LedgerPage

    entries = sorted(
        (bucket, key.hex(), val.hex(), group, flags)
        for bucket, blob in LedgerPage.objects.filter(agency=agency).values_list(
            "bucket", "entries"
        )
        for key, (val, group, flags) in decode(blob).items()
    )
    counts: dict[tuple[str, ...], int] = {}
    for c in CallCount.objects.filter(agency=agency):
        for call_type, n in c.call_types.items():
            group = (c.category, call_type, c.unit_code, c.day.isoformat())
            counts[group] = counts.get(group, 0) + n
    checks = sorted(
        (
            c.source_key,
            c.unit.code,
            c.state,
            c.received_at.isoformat(),
            str(c.outcome_id and c.outcome.code),
            c.mental_health_related,
        )
        for c in WellnessCheck.objects.filter(agency=agency).select_related("unit", "outcome")
    )
    details = sorted(
        (
            d.check_record.source_key,
            d.incident_number,
            d.address,
            d.address_key,
            str(d.latitude),
            str(d.longitude),
        )
        for d in CheckDetail.objects.filter(check_record__agency=agency).select_related(
            "check_record"
        )
    )
    units = sorted(agency.units.values_list("code", "name", "kind"))
    return {
        "entries": entries,
        "counts": {g: n for g, n in counts.items() if n},
        "checks": checks,
        "details": details,
        "units": units,
    }


@_IMPORTS
@given(
    rows=st.lists(_ROW, min_size=1, max_size=50),
    cut=st.integers(1, 49),
    tally=st.booleans(),
    size=st.integers(1, 10),
)
def test_two_overlapping_exports_equal_one(
    db: None, rows: list[tuple[str, ...]], cut: int, tally: bool, size: int
) -> None:
    n = next(_AGENCIES)
    policy = RecordPolicy.CONSENT_ONLY if tally else RecordPolicy.FULL
    whole, parts = (
        Agency.objects.create(
            name=f"{name} {n}",
            slug=f"{name}{n}",
            time_zone="America/Los_Angeles",
            record_policy=policy,
        )
        for name in ("whole", "parts")
    )
    with tempfile.TemporaryDirectory() as first, tempfile.TemporaryDirectory() as second:
        full = _random_file(rows, first)
        part = _random_file(rows[:cut], second)
        import_file(whole, "san_diego", full, batch_size=64)  # all in one batch
        import_file(parts, "san_diego", part, batch_size=size)
        import_file(parts, "san_diego", full, batch_size=size)
    assert _state(parts) == _state(whole)


_CLEAN_ROW = st.tuples(
    st.sampled_from(["E23000001", "E23000002", "E23000003", "E23000950", "E23001004", "E24000001"]),
    st.builds(
        "2023-{:02d}-{:02d} {:02d}:{:02d}:00".format,
        st.sampled_from([1, 3, 11]),
        st.sampled_from([1, 5, 12]),
        st.integers(0, 23),
        st.integers(0, 59),
    ),
    st.sampled_from(["CW", "5150", "5150V", "415", "T", "911"]),
    st.sampled_from(["111", "523", "-1"]),
    st.sampled_from(["K", "A", "R", "CAN", ""]),
)


@_IMPORTS
@given(
    rows=st.lists(_CLEAN_ROW, min_size=1, max_size=40),
    size=st.integers(1, 10),
    tally=st.booleans(),
)
def test_counts_and_checks_follow_the_last_row_of_each_call(
    db: None, rows: list[tuple[str, ...]], size: int, tally: bool
) -> None:
    """Against a model written out here (not the importer's code): each call is counted once,
    in the group of its last row (category, call type, beat, local day); a call that was a
    welfare check or a mental-health call in any row has exactly one check, kept if it later
    becomes another call (a tally in a consent-only agency); the same rows imported again leave
    the database as it was. Clean rows
    only, so the model needs no parsing; the call numbers repeat, in and across batches. Run
    with 300 examples on SQLite and PostgreSQL when written, full and consent-only."""
    from collections import Counter

    from wellcheck.checks.models import CheckDetail, WellnessCheck
    from wellcheck.intake.models import CallCount

    last: dict[str, tuple[str, str, str, str]] = {}
    with_check: set[str] = set()
    for number, when, call_type, beat, _ in rows:
        category = {"CW": "welfare_check", "5150": "mental_health", "5150V": "mental_health"}
        cat = category.get(call_type, "other")
        last[number] = (cat, call_type, "UNKNOWN" if beat == "-1" else beat, when[:10])
        if cat != "other":
            with_check.add(number)
    n = next(_AGENCIES)
    policy = RecordPolicy.CONSENT_ONLY if tally else RecordPolicy.FULL
    agency = Agency.objects.create(name=f"Model {n}", slug=f"model{n}", record_policy=policy)
    with tempfile.TemporaryDirectory() as folder:
        path = _random_file([(*row[:4], "MAIN", row[4]) for row in rows], folder)
        first = import_file(agency, "san_diego", path, batch_size=size).summary
        after_first = _state(agency)
        path.write_text(path.read_text() + "\n")  # another file (another hash), the same rows
        again = import_file(agency, "san_diego", path, batch_size=size).summary
    counts: Counter[tuple[str, str, str, str]] = Counter()
    for c in CallCount.objects.filter(agency=agency):
        for call_type, k in c.call_types.items():
            counts[(c.category, call_type, c.unit_code, c.day.isoformat())] += k
    assert +counts == Counter(last.values())
    assert first["checks_created"] == len(with_check)
    assert WellnessCheck.objects.filter(agency=agency).count() == len(with_check)
    details = CheckDetail.objects.filter(check_record__agency=agency)
    assert {d.incident_number for d in details} == (set() if tally else with_check)
    # The same rows again: nothing new, and the database as it was. (A call with two versions
    # in the file is updated to the first and back to the last, and counted as updated twice:
    # the importer does not look ahead in the file. The state it ends in is the same.)
    assert again["checks_created"] == again["other_calls_counted"] == 0
    assert _state(agency) == after_first
