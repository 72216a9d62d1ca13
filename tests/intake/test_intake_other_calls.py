"""The "other" calls (most of a file) are counted, and changes to them move their counts.

On PostgreSQL the new "other" calls of a batch go through one SQL statement (ledger + counts);
on SQLite every call goes row by row. The expected values are worked out by hand, so both
databases must land on the same ledger, counts, summary and dirty rollup days.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from wellcheck.accounts.models import Agency
from wellcheck.checks.models import WellnessCheck
from wellcheck.insights.models import DirtyDay
from wellcheck.intake.models import CallCount
from wellcheck.intake.testing import SD_HEADER, import_file, ledger_calls

pytestmark = pytest.mark.django_db


def sd_row(
    num: str, when: str = "2023-01-01 10:15:00", call_type: str = "CW", beat: str = "523"
) -> str:
    return f'"{num}","{when}","1","1900","","05TH","AVE","","","","{call_type}","K","{beat}","2"'


def write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def sdpd(db: None) -> Agency:
    return Agency.objects.create(name="San Diego PD", slug="sdpd", time_zone="America/Los_Angeles")


def counts() -> dict[tuple[str, str, str, str], int]:
    """Each group's count: the sum of its deltas (CallCount is a log of deltas, one row per
    category, beat and day with its call types' deltas in a map that sums to ``calls``)."""
    out: dict[tuple[str, str, str, str], int] = {}
    for c in CallCount.objects.all():
        assert c.calls == sum(c.call_types.values())
        for call_type, n in c.call_types.items():
            group = (c.category, call_type, c.unit_code, c.day.isoformat())
            out[group] = out.get(group, 0) + n
    return {g: n for g, n in out.items() if n}


def test_repeated_key_in_one_batch_moves_its_count(sdpd: Agency, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "a.csv",
        [
            SD_HEADER,
            sd_row("O1", call_type="415", beat="111"),
            sd_row("O1", call_type="459", beat="222"),  # same incident, changed: last one wins
            sd_row("O2", call_type="415", beat="111"),
            sd_row("O2", call_type="415", beat="111"),  # exact repeat: nothing more
        ],
    )
    summary = import_file(sdpd, "san_diego", path).summary
    assert summary["other_calls_counted"] == 2
    assert summary["rows_read"] == 4
    assert counts() == {
        ("other", "415", "111", "2023-01-01"): 1,
        ("other", "459", "222", "2023-01-01"): 1,
    }
    assert ledger_calls() == 2
    assert set(DirtyDay.objects.values_list("day", flat=True)) == {dt.date(2023, 1, 1)}


@pytest.mark.parametrize("batch_size", [10000, 1])
def test_changed_other_calls_move_counts_on_reimport(
    sdpd: Agency, tmp_path: Path, batch_size: int
) -> None:
    first = write(
        tmp_path,
        "a.csv",
        [
            SD_HEADER,
            sd_row("O1", call_type="415", beat="111"),
            sd_row("O2", call_type="415", beat="111"),
            sd_row("W1", call_type="CW", beat="111"),
            sd_row("O4", call_type="415", beat="111"),
        ],
    )
    import_file(sdpd, "san_diego", first, batch_size=batch_size)
    DirtyDay.objects.all().delete()
    second = write(
        tmp_path,
        "b.csv",
        [
            SD_HEADER,
            sd_row("O1", call_type="415", beat="111"),  # unchanged
            sd_row("O2", when="2023-01-02 23:30:00", call_type="415", beat="333"),  # moved
            sd_row("W1", call_type="415", beat="111"),  # a welfare check, now another type
            sd_row("O3", when="2023-01-03 08:00:00", call_type="911", beat="111"),  # new
            sd_row("O4", call_type="CW", beat="111"),  # another call, now a welfare check
        ],
    )
    summary = import_file(sdpd, "san_diego", second, batch_size=batch_size).summary
    assert summary["other_calls_counted"] == 1  # O3 only: the others were counted before
    assert summary["checks_created"] == 1  # O4
    assert summary["warnings"] == {
        "was a welfare or mental-health call, now another type; check kept": 1
    }
    assert counts() == {
        ("other", "415", "111", "2023-01-01"): 2,  # O1 and W1
        ("other", "415", "333", "2023-01-02"): 1,  # O2
        ("other", "911", "111", "2023-01-03"): 1,  # O3
        ("welfare_check", "CW", "111", "2023-01-01"): 1,  # O4
    }
    assert ledger_calls() == 5
    assert WellnessCheck.objects.count() == 2  # W1 kept, O4 created
    assert set(DirtyDay.objects.values_list("day", flat=True)) == {
        dt.date(2023, 1, 1),
        dt.date(2023, 1, 2),
        dt.date(2023, 1, 3),
    }
    again = import_file(sdpd, "san_diego", second, batch_size=batch_size).summary
    assert again["other_calls_counted"] == 0 and again["checks_created"] == 0
    assert sum(counts().values()) == 5


class _Unpicklable(Exception):
    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("cannot pickle this error")


def test_a_parsing_failure_fails_the_run_without_quoting_the_row(
    sdpd: Agency, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected error in the parsing process fails the run; what reaches the writer (and a
    log) names the error and where, never the row's contents it may quote."""
    import os

    from wellcheck.intake.models import ImportRun
    from wellcheck.intake.parse import RowParser

    parent, parse = os.getpid(), RowParser.parse

    def broken(self: RowParser, row: Any) -> object:
        if os.getpid() == parent:  # the pre-flight look at the first rows, before the child
            return parse(self, row)
        raise _Unpicklable(" ".join(row.values))  # an error that quotes the row

    monkeypatch.setattr(RowParser, "parse", broken)  # the forked child inherits it
    path = write(tmp_path, "a.csv", [SD_HEADER, sd_row("E1")])
    with pytest.raises(RuntimeError) as failed:
        import_file(sdpd, "san_diego", path)
    assert "_Unpicklable in the parsing process" in str(failed.value)
    assert "05TH" not in str(failed.value) and "E1" not in str(failed.value)
    assert ImportRun.objects.get().status == "failed"
    assert not WellnessCheck.objects.exists()
