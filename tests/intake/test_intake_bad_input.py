"""One test per kind of bad input: the message, the reject file, and that nothing else changed."""

from __future__ import annotations

import csv
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from wellcheck.accounts.models import Agency, RecordPolicy, Unit
from wellcheck.audit.models import AuditEvent
from wellcheck.checks.models import CheckDetail, WellnessCheck
from wellcheck.intake.models import CallCount, ImportRun
from wellcheck.intake.testing import SD_HEADER, import_file, ledger_calls, real_data_dir

pytestmark = pytest.mark.django_db


def sd_row(
    num: str,
    when: str = "2023-01-01 10:15:00",
    call_type: str = "CW",
    dispo: str = "K",
    beat: str = "523",
) -> str:
    return (
        f'"{num}","{when}","1","1900","","05TH","AVE","","","","{call_type}","{dispo}","{beat}","2"'
    )


def write(tmp_path: Path, name: str, lines: list[str], *, prefix: bytes = b"") -> Path:
    path = tmp_path / name
    path.write_bytes(prefix + ("\n".join(lines) + "\n").encode())
    return path


def snapshot() -> dict[str, int]:
    return {
        "checks": WellnessCheck.objects.count(),
        "details": CheckDetail.objects.count(),
        "calls": ledger_calls(),
        "counts": CallCount.objects.count(),
        "runs": ImportRun.objects.count(),
        "units": Unit.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


@pytest.fixture
def sdpd(db: None) -> Agency:
    return Agency.objects.create(name="San Diego PD", slug="sdpd")


def run_cmd(*args: str) -> dict[str, int]:
    out = StringIO()
    call_command("import_calls", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def refused(*args: str) -> CommandError:
    with pytest.raises(CommandError) as info:
        call_command("import_calls", *args, "--json", stdout=StringIO())
    assert info.value.returncode == 2
    return info.value


# --- the baseline: a good file imports -----------------------------------------------------


def test_good_file_imports(sdpd: Agency, tmp_path: Path) -> None:
    path = write(tmp_path, "good.csv", [SD_HEADER, sd_row("E1"), sd_row("E2", call_type="FD")])
    summary = run_cmd("--profile", "san_diego", str(path))
    assert summary == {
        "rows_read": 2,
        "checks_created": 1,
        "checks_updated": 0,
        "checks_unchanged": 0,
        "created_by_category": {"welfare_check": 1, "mental_health": 0},
        "other_calls_counted": 1,
        "rows_warned": 0,
        "rows_rejected": 0,
    }
    check = WellnessCheck.objects.get()
    assert check.state == "imported" and check.source == "imported"
    assert check.unit.code == "523" and "created by import" in check.unit.name
    assert check.outcome is not None and check.outcome.code == "safe_no_action"
    assert check.detail.incident_number == "E1"
    assert check.detail.address == "1900 05TH AVE"
    assert AuditEvent.objects.filter(event_type="import.batch").count() == 1


# --- rows that are rejected -----------------------------------------------------------------


def test_unparseable_time_goes_to_reject_file_with_line_and_reason(
    sdpd: Agency, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "t.csv",
        [SD_HEADER, sd_row("E1"), sd_row("E2", when="yesterday"), sd_row("E3", when="")],
    )
    rejects = tmp_path / "rejects.csv"
    summary = run_cmd("--profile", "san_diego", "--reject-file", str(rejects), str(path))
    assert summary["rows_read"] == 3 and summary["rows_rejected"] == 2
    assert summary["checks_created"] == 1
    rows = list(csv.reader(rejects.open()))
    assert rows[0] == ["line", "reason", "row"]
    assert [r[0] for r in rows[1:]] == ["3", "4"]
    assert all("no parseable time in 'date_time'" in r[1] for r in rows[1:])
    assert rows[1][2].startswith("E2,yesterday")
    assert not WellnessCheck.objects.filter(source_key__isnull=True).exists()
    assert ledger_calls() == 1


def test_row_with_unknown_extra_columns_is_rejected(sdpd: Agency, tmp_path: Path) -> None:
    path = write(tmp_path, "x.csv", [SD_HEADER, sd_row("E1"), sd_row("E2") + ',"surprise"'])
    rejects = tmp_path / "rejects.csv"
    summary = run_cmd("--profile", "san_diego", "--reject-file", str(rejects), str(path))
    assert summary["rows_rejected"] == 1 and summary["checks_created"] == 1
    line, reason, _ = list(csv.reader(rejects.open()))[1]
    assert line == "3" and "unknown columns" in reason and "15 fields" in reason


# --- rows that are repaired with a warning --------------------------------------------------


def test_out_of_bounds_coordinates_are_dropped_with_a_warning(db: None, tmp_path: Path) -> None:
    agency = Agency.objects.create(name="Milwaukee", slug="mpd")
    path = write(
        tmp_path,
        "m.csv",
        [
            "id,time,location,latitude,longitude,district,nature,status",
            '1,2018-05-01 00:10:28,"5237 N 35TH ST,MKE",43.11,-87.95,4,WELFARE CITIZEN,Advised',
            '2,2018-05-01 00:11:28,"5200 N 35TH ST,MKE",47.37,-115.38,4,WELFARE CITIZEN,Advised',
        ],
    )
    result = import_file(agency, "milwaukee", path)
    assert result.summary["rows_warned"] == 1
    assert result.summary["warnings"] == {"coordinates outside the profile's bounds; dropped": 1}
    details = {d.incident_number: d for d in CheckDetail.objects.all()}
    assert float(details["1"].latitude) == pytest.approx(43.11)
    assert details["2"].latitude is None and details["2"].longitude is None
    assert details["1"].address == "5237 N 35TH ST"  # ,MKE suffix removed


def test_rows_without_incident_number_get_stable_keys(db: None, tmp_path: Path) -> None:
    agency = Agency.objects.create(name="Berkeley", slug="bpd")
    lines = [
        '"Date-Time","Call-Incident Type","Incident No.","Full Address"',
        '"07/07/2014 00:06:12","1042","","2100 BLOCK SHATTUCK AVE"',
        '"07/07/2014 00:06:12","1042","","2100 BLOCK SHATTUCK AVE"',
        '"07/07/2014 01:00:00","T","2014-00000001","SHATTUCK AVE/CHANNING WAY"',
    ]
    path = write(tmp_path, "b.csv", lines)
    first = import_file(agency, "berkeley", path).summary
    assert first["checks_created"] == 2  # identical rows are two calls, told apart by occurrence
    assert first["warnings"] == {
        "no incident number; key derived from time, call type and address": 2
    }
    keys = set(WellnessCheck.objects.values_list("source_key", flat=True))
    again = import_file(agency, "berkeley", path).summary
    assert again["checks_created"] == 0 and again["checks_unchanged"] == 2
    assert set(WellnessCheck.objects.values_list("source_key", flat=True)) == keys


# --- file-level quirks that are handled -----------------------------------------------------


def test_header_variant_and_junk_lines_of_berkeley_daily_files(db: None) -> None:
    daily = real_data_dir() / "berkeley" / "daily"
    if not daily.exists():
        pytest.skip("real data absent")
    agency = Agency.objects.create(name="Berkeley", slug="bpd")
    variant = import_file(agency, "berkeley", daily / "07102014.csv")  # "Address" column
    assert variant.summary["rows_rejected"] == 0 and variant.summary["rows_read"] > 100
    junk = import_file(agency, "berkeley", daily / "07172014.csv")  # junk lines, 5th column
    assert junk.summary["rows_rejected"] == 0 and junk.summary["rows_read"] > 100
    assert any("junk line(s) before the header" in n for n in junk.notes)
    assert CheckDetail.objects.exclude(address="").count() == WellnessCheck.objects.count()


def test_repeated_headers_and_blank_lines_inside_the_file(sdpd: Agency, tmp_path: Path) -> None:
    path = write(
        tmp_path, "cat.csv", [SD_HEADER, sd_row("E1"), "", ",,,,", SD_HEADER, sd_row("E2")]
    )
    result = import_file(sdpd, "san_diego", path)
    assert result.summary["rows_read"] == 2 and result.summary["rows_rejected"] == 0
    assert "1 repeated header line(s) skipped" in result.notes


@pytest.mark.parametrize(
    ("prefix", "note"),
    [
        (b"\xef\xbb\xbf", None),
        (b"\xef\xbb", "corrupted byte-order mark"),
        (b"\xc3\xaf\xc2\xbb\xc2\xbf", "corrupted byte-order mark"),
        (b"\xef\xbb\xbf\xef\xbb\xbf", "repeated byte-order mark"),
    ],
    ids=["bom", "truncated-bom", "mojibake-bom", "double-bom"],
)
def test_byte_order_marks(sdpd: Agency, tmp_path: Path, prefix: bytes, note: str | None) -> None:
    path = write(tmp_path, "bom.csv", [SD_HEADER, sd_row("E1")], prefix=prefix)
    result = import_file(sdpd, "san_diego", path)
    assert not result.refused, result.message
    assert result.summary["checks_created"] == 1
    if note:
        assert any(note in n for n in result.notes)
    else:
        assert result.notes == []


# --- files that are refused: nothing written, exit status 2 ---------------------------------


def _refusal(args: list[str], expected: str) -> None:
    before = snapshot()
    error = refused(*args)
    assert expected in str(error)
    assert snapshot() == before


def test_wrong_profile_is_refused(sdpd: Agency, tmp_path: Path) -> None:
    path = write(tmp_path, "sd.csv", [SD_HEADER, sd_row("E1")])
    Agency.objects.create(name="Berkeley", slug="bpd")
    _refusal(["--profile", "berkeley", str(path)], "no header with the columns the profile")


def test_missing_required_column_is_refused(sdpd: Agency, tmp_path: Path) -> None:
    header = SD_HEADER.replace('"beat",', '"zone",')
    path = write(tmp_path, "nobeat.csv", [header, sd_row("E1")])
    _refusal(["--profile", "san_diego", str(path)], "unit (beat)")


def test_binary_file_is_refused(sdpd: Agency, tmp_path: Path) -> None:
    path = tmp_path / "calls.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 200)
    _refusal(["--profile", "san_diego", str(path)], "not a CSV text file")


def test_empty_and_missing_files_are_refused(sdpd: Agency, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    _refusal(["--profile", "san_diego", str(empty)], "is empty")
    _refusal(["--profile", "san_diego", str(tmp_path / "nope.csv")], "Cannot read nope.csv")


def test_file_whose_rows_do_not_fit_the_profile_is_refused(sdpd: Agency, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "us.csv",
        [SD_HEADER, sd_row("E1", when="01/02/2023 10:00"), sd_row("E2", when="01/03/2023 11:00")],
    )
    _refusal(["--profile", "san_diego", str(path)], "none of the first 2 rows")


def test_unknown_profile_and_bad_profile_file_are_refused(sdpd: Agency, tmp_path: Path) -> None:
    path = write(tmp_path, "sd.csv", [SD_HEADER, sd_row("E1")])
    _refusal(["--profile", "atlantis", str(path)], "No built-in profile 'atlantis'")
    bad = tmp_path / "p.toml"
    bad.write_text('name = "x"\n[agency]\nslug = "sdpd"\n')
    _refusal(["--profile-file", str(bad), str(path)], "The profile lacks `columns`")
    from wellcheck.intake.profiles import BUILTIN_DIR

    text = (BUILTIN_DIR / "san_diego.toml").read_text()
    assert "bucket_drop = 3" in text
    for value in ("-1", "9", "true", '"3"'):
        bad.write_text(text.replace("bucket_drop = 3", f"bucket_drop = {value}"))
        _refusal(["--profile-file", str(bad), str(path)], "`key.bucket_drop`")


def test_bucket_drop_0_pages_every_call_alone_and_stays_exact(sdpd: Agency, tmp_path: Path) -> None:
    """A profile whose incident numbers are not given out in sequence sets `bucket_drop = 0`: a
    ledger page per call. Same counts, and a second import adds nothing."""
    from wellcheck.intake.models import LedgerPage
    from wellcheck.intake.profiles import BUILTIN_DIR

    profile = tmp_path / "sd0.toml"
    profile.write_text(
        (BUILTIN_DIR / "san_diego.toml").read_text().replace("bucket_drop = 3", "bucket_drop = 0")
    )
    rows = [sd_row(f"E{i}", call_type="CW" if i % 4 == 0 else "FD") for i in range(12)]
    path = write(tmp_path, "a.csv", [SD_HEADER, *rows])
    first = run_cmd("--profile-file", str(profile), str(path))
    assert first["checks_created"] == 3 and first["other_calls_counted"] == 9
    assert LedgerPage.objects.count() == 12 and ledger_calls() == 12
    again = run_cmd("--profile-file", str(profile), str(path))
    assert again["checks_created"] == 0 and again["other_calls_counted"] == 0
    assert again["checks_unchanged"] == 3
    assert sum(CallCount.objects.values_list("calls", flat=True)) == 12


# --- changes and policy -----------------------------------------------------------------------


def test_changed_row_updates_its_check_and_is_audited(sdpd: Agency, tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", [SD_HEADER, sd_row("E1", dispo="K"), sd_row("E2")])
    import_file(sdpd, "san_diego", path)
    changed = write(tmp_path, "b.csv", [SD_HEADER, sd_row("E1", dispo="A"), sd_row("E2")])
    summary = import_file(sdpd, "san_diego", changed).summary
    assert summary["checks_updated"] == 1 and summary["checks_unchanged"] == 1
    check = next(c for c in WellnessCheck.objects.all() if c.detail.incident_number == "E1")
    assert check.outcome.code == "arrest"
    event = AuditEvent.objects.filter(event_type="import.batch").last()
    assert event.details["updated"] == [{"id": str(check.pk), "fields": ["outcome"]}]
    assert event.details["created"] == []
    assert "E1" not in json.dumps(event.details)  # no incident number in the audit trail


def test_a_call_changed_later_in_the_same_batch_updates_the_check_it_created(
    sdpd: Agency, tmp_path: Path
) -> None:
    """The same incident number twice in one file, changed the second time: the check its first
    row creates in the batch is updated by the second, as when the rows come in two exports.
    (The update ran before the batch's new checks were written, found no check, and counted the
    row as unchanged: the check kept the first row's values. Found by random exports.)"""
    rows = [sd_row("E1", dispo="K"), sd_row("E2"), sd_row("E1", dispo="A")]
    summary = import_file(sdpd, "san_diego", write(tmp_path, "a.csv", [SD_HEADER, *rows])).summary
    assert summary["checks_created"] == 2
    assert summary["checks_updated"] == 1 and summary["checks_unchanged"] == 0
    check = next(c for c in WellnessCheck.objects.all() if c.detail.incident_number == "E1")
    assert check.outcome.code == "arrest"
    event = AuditEvent.objects.filter(event_type="import.batch").last()
    assert event.details["updated"] == [{"id": str(check.pk), "fields": ["outcome"]}]
    assert str(check.pk) in event.details["created"]


def test_consent_only_agency_imports_tallies(db: None, tmp_path: Path) -> None:
    agency = Agency.objects.create(
        name="Consent PD", slug="sdpd", record_policy=RecordPolicy.CONSENT_ONLY
    )
    path = write(
        tmp_path,
        "c.csv",
        [
            SD_HEADER,
            sd_row("E1", when="2023-01-01 10:15:42"),
            sd_row("E2", call_type="5150", when="yesterday"),
        ],
    )
    rejects = tmp_path / "r.csv"
    result = import_file(agency, "san_diego", path, reject_path=rejects)
    check = WellnessCheck.objects.get()
    assert check.record_mode == "tally" and not CheckDetail.objects.exists()
    assert (check.received_at.minute, check.received_at.second) == (0, 0)
    assert result.summary["rows_rejected"] == 1
    assert "E2" not in rejects.read_text()  # no row contents kept for a consent-only agency


def test_a_new_agency_is_mapped_by_a_profile_file_alone(db: None, tmp_path: Path) -> None:
    Agency.objects.create(name="Springfield PD", slug="spd")
    profile = tmp_path / "springfield.toml"
    profile.write_text(
        'name = "springfield"\n'
        '[agency]\nslug = "spd"\nname = "Springfield PD"\ntime_zone = "America/New_York"\n'
        '[file]\ndelimiter = ";"\nrequired = ["received_at", "call_type"]\n'
        '[columns]\nincident_number = ["CallNo"]\nreceived_at = ["Received"]\n'
        'call_type = ["Type"]\nunit = ["Zone"]\naddress = ["Where"]\ndisposition = ["Result"]\n'
        '[time]\nformats = ["%d.%m.%Y %H:%M"]\n'
        '[call_types]\nwelfare_check = ["WELFARE"]\nmental_health = ["EDP"]\n'
        '[unit]\nkind = "district"\nname = "Zone {code} (created by import)"\n'
        '[address]\nstreet = ["address"]\n'
        '[outcomes]\nGOA = "unable_to_locate"\n'
    )
    path = write(
        tmp_path,
        "s.csv",
        [
            "CallNo;Received;Type;Zone;Where;Result",
            "S-1;05.03.2024 22:10;WELFARE;Z1;742 EVERGREEN TER;GOA",
            "S-2;05.03.2024 23:10;EDP;Z2;1 MAIN ST;",
            "S-3;06.03.2024 01:10;NOISE;Z2;2 MAIN ST;",
        ],
    )
    summary = run_cmd("--profile-file", str(profile), str(path))
    assert summary["created_by_category"] == {"welfare_check": 1, "mental_health": 1}
    assert summary["other_calls_counted"] == 1
    welfare = WellnessCheck.objects.get(mental_health_related=False)
    assert welfare.outcome.code == "unable_to_locate" and welfare.unit.code == "Z1"
    assert welfare.received_at.isoformat() == "2024-03-06T03:10:00+00:00"  # 22:10 EST


def test_progress_is_reported_and_the_summary_printed(sdpd: Agency, tmp_path: Path) -> None:
    rows = [sd_row(f"E{i}", call_type="CW" if i % 3 == 0 else "FD") for i in range(25)]
    path = write(tmp_path, "p.csv", [SD_HEADER, *rows])
    seen: list[tuple[int, int, int]] = []
    from wellcheck.intake.engine import run_import
    from wellcheck.intake.profiles import load_profile

    run_import(
        agency=sdpd,
        profile=load_profile("san_diego"),
        path=path,
        batch_size=10,
        progress=lambda r, done, total: seen.append((r, done, total)),
    )
    assert [r for r, _, _ in seen] == [10, 20, 25]
    assert seen[-1][1] == seen[-1][2] == path.stat().st_size
    assert AuditEvent.objects.filter(event_type="import.batch").count() == 3  # one per batch
    out = StringIO()
    call_command("import_calls", "--profile", "san_diego", str(path), stdout=out)
    text = out.getvalue()
    assert "rows read" in text and "checks unchanged" in text and "25" in text
