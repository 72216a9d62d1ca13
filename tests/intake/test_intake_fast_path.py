"""The fast path for "other" calls (``RowParser.fast``) gives exactly what ``parse`` gives.

``fast`` turns an "other" call straight into its ledger entry (key, bucket, val, count group,
local day in the agency's zone) with cached time zone offsets per local hour; it declines every
row that needs a repair, a warning or a check. If it ever disagreed with the full parse, a
re-import would see "changed" calls, so these tests compare the two row by row, around
daylight-saving changes and with an agency zone other than the profile's.
"""

from __future__ import annotations

import sys
import zoneinfo
from pathlib import Path

import pytest

from wellcheck.core.blind import keyed_index
from wellcheck.intake.parse import OTHER, Call, RowParser, import_key, ledger_key
from wellcheck.intake.profiles import load_profile
from wellcheck.intake.reader import CsvSource
from wellcheck.intake.testing import real_file

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from gen_sandiego import HEADER, generate  # noqa: E402

EDGE_TIMES = [
    "2023-03-12 01:59:59",  # the hour before the spring-forward gap
    "2023-03-12 02:30:00",  # inside the gap (does not exist in Los Angeles)
    "2023-03-12 03:00:00",
    "2023-11-05 00:59:59",
    "2023-11-05 01:30:00",  # the repeated hour (fold 0: daylight time)
    "2023-11-05 02:00:00",
    "2023-12-31 23:59:59",  # a new UTC day, a new local year
    "2023-06-01T12:00:00",  # ISO with a T
    "2023-06-01 12:00:60",  # no such second: rejected by both
    "2023-06-01 12:00",  # shorter: only the full parse
    "2023-06-01 12:00:00.250000",  # fractions: only the full parse
    "2023-02-30 10:00:00",  # no such day
    "2023-06-01 24:00:00",
    "",
]


def _row(i: int, when: str, call_type: str = "415", beat: str = "523", num: str = "") -> str:
    number = num if num else f"E{i}"
    return f'"{number}","{when}","1","1900","","05TH","AVE","","","","{call_type}","K","{beat}","2"'


def _edge_file(tmp_path: Path) -> Path:
    lines = [",".join(f'"{h}"' for h in HEADER)]
    i = 0
    for when in EDGE_TIMES:
        for call_type, beat in (
            ("415", "523"),
            ("CW", "523"),
            ("5150V", "-1"),
            ("", "523"),
            ("x" * 41, "523"),
            ("T", "-1"),
            ("T", "b" * 41),
            ("ta\tb\\c", "5\\23"),
            ("t", " 523 "),
        ):
            i += 1
            lines.append(_row(i, when, call_type, beat))
    lines.append(_row(0, "2023-06-01 12:00:00", num=" "))  # no incident number
    lines.append(_row(1, "2023-06-01 12:00:00") + ',"extra"')  # an unknown column
    path = tmp_path / "edges.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _compare(profile_name: str, path: Path, *, mark_zone: str | None, tally: bool) -> int:
    profile = load_profile(profile_name)
    zone = zoneinfo.ZoneInfo(mark_zone or profile.time_zone)
    fast = 0
    with CsvSource(path, profile) as source:
        quick = RowParser(profile, source.header, tally=tally, mark_zone=zone)
        full = RowParser(profile, source.header, tally=tally, mark_zone=zone)
        for raw in source.rows():
            got = quick.fast(raw.values) if not raw.error else None
            call = full.parse(raw)
            if got is None:
                continue
            fast += 1
            assert isinstance(call, Call), (raw.line, call)
            assert call.category == OTHER and not call.warnings, raw.line
            local = call.received_at.astimezone(zone).date()
            expected = (
                call.page_key,
                call.bucket,
                call.val,
                (OTHER, call.call_type, call.unit_code, call.day),
                local.isoformat(),
            )
            assert got == expected, raw.line
            assert call.mark_day == local.isoformat()
    return fast


def test_import_key_is_the_blind_index_hmac() -> None:
    for value in ("sdpd|E23000000001", "", "ü|ß" * 50):
        assert import_key(value) == keyed_index(value, key_name="import_key")


@pytest.mark.parametrize("mark_zone", [None, "America/New_York", "Asia/Kolkata", "UTC"])
@pytest.mark.parametrize("tally", [False, True])
def test_fast_path_equals_full_parse_on_edge_rows(
    tmp_path: Path, mark_zone: str | None, tally: bool
) -> None:
    fast = _compare("san_diego", _edge_file(tmp_path), mark_zone=mark_zone, tally=tally)
    if mark_zone == "Asia/Kolkata":  # half-hour offset: every row takes the full parse
        assert fast == 0
    else:
        assert fast > 20


def test_fast_path_equals_full_parse_on_generated_rows(tmp_path: Path) -> None:
    path = generate(3000, tmp_path / "gen.csv")
    assert _compare("san_diego", path, mark_zone=None, tally=False) > 2500


@pytest.mark.parametrize("name", ["san_diego", "milwaukee", "berkeley"])
def test_fast_path_equals_full_parse_on_real_files(name: str) -> None:
    path = real_file(name)
    if not path.exists():
        pytest.skip("the real data folder ../shared/data/cfs is absent")
    _compare(name, path, mark_zone=None, tally=False)


def test_hour_cache_declines_an_hour_with_an_offset_change(tmp_path: Path) -> None:
    """Lord Howe Island moves its clocks by 30 minutes at 02:00: an hour whose offset is not one
    whole-hour offset throughout is not cached, so its rows take the full parse. (When clocks go
    back, the repeated half hour reads as its first occurrence, fold 0, as the full parse does.)"""
    profile = load_profile("san_diego")
    with CsvSource(_edge_file(tmp_path), profile) as source:
        parser = RowParser(profile, source.header, tally=False, mark_zone=zoneinfo.ZoneInfo("UTC"))
    parser.tz = zoneinfo.ZoneInfo("Australia/Lord_Howe")
    assert parser._hour("2023-10-01 02") is None  # 02:00-02:29 do not exist, then +11:00
    assert parser._hour("2023-06-01 12") is None  # +10:30
    assert parser._hour("2023-04-02 01") == ("2023-04-02", "2023-04-01", "2023-04-02T01")
    parser.tz = zoneinfo.ZoneInfo("America/Los_Angeles")
    assert parser._hour("2023-06-01 12") == ("2023-06-01", "2023-06-01", "2023-06-01T12")
    assert parser._hour("2023-06-01 17") == ("2023-06-01", "2023-06-02", "2023-06-01T17")


@pytest.mark.django_db(transaction=True)
def test_ledger_key_migration_keeps_a_reimport_idempotent(tmp_path: Path) -> None:
    """A ledger written with 64-hex text keys (before 0004) still recognises every call after
    the migration to 128-bit uuid keys (0004) and to ledger pages (0005): importing the same
    file again adds nothing, and moves the old row into its page."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from wellcheck.accounts.models import Agency
    from wellcheck.intake.models import CallCount, ImportedCall
    from wellcheck.intake.testing import import_file, ledger_entries
    from wellcheck.testing.personas import ensure_shared_codes

    ensure_shared_codes()  # an earlier transactional test's flush removed the migration's codes
    path = tmp_path / "one.csv"
    path.write_text(",".join(f'"{h}"' for h in HEADER) + "\n" + _row(7, "2023-06-01 12:00:00"))
    profile = load_profile("san_diego")
    with CsvSource(path, profile) as source:
        call = next(
            RowParser(profile, source.header, tally=False).parse(raw) for raw in source.rows()
        )
    assert isinstance(call, Call) and call.category == OTHER
    agency = Agency.objects.create(name="SD", slug="sdpd", time_zone="America/Los_Angeles")
    executor = MigrationExecutor(connection)
    executor.migrate([("intake", "0003_ledger_indexes")])
    try:
        with connection.cursor() as cur:  # the ledger row and count as the old importer wrote
            cur.execute(
                "INSERT INTO intake_importedcall (agency_id, source_key, digest, category, "
                "call_type, unit_code, day) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [agency.pk.hex, call.source_key, call.digest, OTHER, "415", "523", "2023-06-01"],
            )
            cur.execute(
                "INSERT INTO intake_callcount (agency_id, category, call_type, unit_code, day, "
                "calls) VALUES (%s, %s, %s, %s, %s, 1)",
                [agency.pk.hex, OTHER, "415", "523", "2023-06-01"],
            )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes("intake"))
    row = ImportedCall.objects.get()
    assert row.source_key.hex == ledger_key(call.source_key)
    summary = import_file(agency, "san_diego", path).summary
    assert summary["rows_read"] == 1 and summary["other_calls_counted"] == 0
    assert ImportedCall.objects.count() == 0  # moved into its ledger page
    assert ledger_entries(agency) == [(OTHER, "415", "523", "2023-06-01", 0)]
    assert list(CallCount.objects.values_list("calls", "call_types")) == [(1, {"415": 1})]  # 0006
    path.write_text(path.read_text() + "\n" + _row(8, "2023-06-01 13:00:00"))
    summary = import_file(agency, "san_diego", path).summary  # no old rows left: the fast path
    assert summary["rows_read"] == 2 and summary["other_calls_counted"] == 1
    assert sum(CallCount.objects.values_list("calls", flat=True)) == 2  # a log: 1 + 1
