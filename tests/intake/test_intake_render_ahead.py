"""PostgreSQL: the checks' rows are made ahead, in the parsing process, as COPY lines
(``services.render_checks``); the writer appends each line's unit and streams them.

Each test also runs on SQLite, where the writer makes the rows itself: the results must be the
same either way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from wellcheck.accounts.models import Agency
from wellcheck.checks.models import CheckDetail, WellnessCheck
from wellcheck.intake import engine, services
from wellcheck.intake.models import ImportRun, LedgerPage, RunStatus
from wellcheck.intake.testing import SD_HEADER, import_file, parse_job

pytestmark = pytest.mark.django_db


def sd_row(num: str, road: str = "05TH", call_type: str = "CW", beat: str = "523") -> str:
    return (
        f'"{num}","2023-01-01 10:15:00","1","1900","","{road}","AVE","","","",'
        f'"{call_type}","K","{beat}","2"'
    )


def write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "calls.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def sdpd() -> Agency:
    return Agency.objects.create(name="San Diego PD", slug="sdpd", time_zone="America/Los_Angeles")


@pytest.mark.parametrize("details_ahead", [True, False])
def test_values_that_copy_text_escapes_are_stored_as_read(
    sdpd: Agency, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, details_ahead: bool
) -> None:
    """Details made in the parsing process or by the writer's preparing thread: the same."""
    monkeypatch.setattr(engine, "RENDER_DETAILS_AHEAD", details_ahead)
    roads = ["BACK\\SLASH", "TAB\tBED", 'QUOTE"D', "NEW\nLINE", "ÜMLAUT"]
    rows = [sd_row(f"W{i}", road=road.replace('"', '""')) for i, road in enumerate(roads)]
    path = write(tmp_path, [SD_HEADER, *rows, sd_row("O1", call_type="415")])
    summary = import_file(sdpd, "san_diego", path).summary
    assert summary["checks_created"] == 5 and summary["other_calls_counted"] == 1
    stored = {d.incident_number: d.address for d in CheckDetail.objects.all()}
    assert stored == {f"W{i}": f"1900 {road} AVE" for i, road in enumerate(roads)}
    assert set(WellnessCheck.objects.values_list("unit__code", flat=True)) == {"523"}


def test_a_pruned_ledger_never_duplicates_a_check(sdpd: Agency, tmp_path: Path) -> None:
    """Ledger pages deleted by hand: every check is judged new again, its COPY line meets the
    existing row, and the rows go through ON CONFLICT DO NOTHING instead: no duplicate."""
    path = write(
        tmp_path, [SD_HEADER, *(sd_row(f"W{i}") for i in range(6)), sd_row("O1", call_type="415")]
    )
    first = import_file(sdpd, "san_diego", path)
    assert first.summary["checks_created"] == 6
    before = (WellnessCheck.objects.count(), CheckDetail.objects.count())
    LedgerPage.objects.all().delete()
    result = import_file(sdpd, "san_diego", path)
    assert not result.refused and result.run is not None
    assert result.run.status == RunStatus.FINISHED
    assert (WellnessCheck.objects.count(), CheckDetail.objects.count()) == before == (6, 6)


def test_the_parsing_process_may_not_use_the_database(
    sdpd: Agency, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the checks' rows are made ahead only on PostgreSQL")
    render = services.render_checks

    def querying(*args: Any, **kw: Any) -> None:
        WellnessCheck.objects.count()  # a defect: refused in the parsing process
        render(*args, **kw)

    monkeypatch.setattr(services, "render_checks", querying)
    path = write(tmp_path, [SD_HEADER, sd_row("W1")])
    with pytest.raises(RuntimeError, match="parsing process"):
        import_file(sdpd, "san_diego", path)
    assert WellnessCheck.objects.count() == 0
    assert ImportRun.objects.get().status == RunStatus.FAILED
    # Made by the writer instead, the same file imports.
    monkeypatch.setattr(engine, "RENDER_AHEAD", False)
    assert import_file(sdpd, "san_diego", path).summary["checks_created"] == 1


@pytest.mark.parametrize("tally", [False, True])
def test_check_lines_are_the_general_rows(tmp_path: Path, tally: bool) -> None:
    """``services._check_lines`` (the first line made the general way, the others by replacing
    the fields that vary) gives exactly ``copy_text`` of every ``_check_row``: outcomes mapped
    and unmapped, welfare and mental-health calls, keys from incident numbers and derived ones;
    and it falls back to the general way for a value it does not replace safely."""
    from django.utils import timezone

    from wellcheck.accounts.models import RecordPolicy
    from wellcheck.intake import bulk, producer
    from wellcheck.intake.profiles import load_profile

    policy = RecordPolicy.CONSENT_ONLY if tally else RecordPolicy.FULL
    agency = Agency.objects.create(
        name="San Diego PD", slug="sdpd", time_zone="America/Los_Angeles", record_policy=policy
    )
    rows = [
        sd_row("W1"),
        sd_row("W2", call_type="5150"),
        sd_row("W3", call_type="5150V", beat="-1"),
        sd_row("W4").replace('"K"', '"CAN"'),  # a disposition without an outcome
        sd_row("").replace('"05TH"', '"ELM"'),  # no incident number: a derived key
        sd_row("O1", call_type="415"),
    ]
    path = write(tmp_path, [SD_HEADER, *rows])
    profile = load_profile("san_diego")
    out: list[Any] = []
    producer.produce(parse_job(path, tally=tally), lambda m: out.append(m) is None)
    checks = [c for c in out[0].calls if c.is_check]
    assert len(checks) == 5
    ctx = services.ImportContext.build(agency=agency, profile=profile, actor=None)
    now = timezone.now()
    ids = [services.check_id_for(agency.pk, c.source_key) for c in checks]

    def general(calls: list[Any]) -> list[str]:
        unit = ctx.check_rows.names.index(services.CHECK_LINE_UNIT)
        made = []
        for call, check_id in zip(calls, ids, strict=True):
            row = services._check_row(ctx, call, check_id, 0, now)
            del row[unit]
            made.append(row)
        text = bulk.copy_text(made)
        assert text is not None
        return text.split("\n")[:-1]

    assert services._check_lines(ctx, checks, ids, now) == general(checks)
    assert {c.outcome is None for c in checks} == {True, False}
    checks[1].source_key = "NOT\tHEX"  # needs escaping: the whole batch the general way
    assert services._check_lines(ctx, checks, ids, now) == general(checks)
