"""The "no record" policy canary, for imported dispatch calls.

An export whose rows carry a unique made-up incident number and street (a welfare check, a
mental-health call, another call, and a row rejected for its time) is imported into a
``consent_only`` agency. Neither string may then appear in any row of any table (this
database, SQLite or PostgreSQL), in the log output of every logger at DEBUG level with SQL and
its parameters, in the reject file, or in the run's summary and notes. The same import into a
``full`` agency is the positive control: the check's detail reads back the incident number and
address, the reject file keeps the rejected row, so the scans are shown able to find them; and
even there no table holds them in plain text (they are encrypted at rest).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from django.db import connection

from tests.test_policy_canary import capture_all_logs, release_logs
from wellcheck.accounts.models import Agency, RecordPolicy
from wellcheck.checks.models import CheckDetail, WellnessCheck
from wellcheck.intake.testing import SD_HEADER, import_file

pytestmark = pytest.mark.django_db


def _row(number: str, road: str, call_type: str, when: str = "2023-01-01 10:15:42") -> str:
    return f'"{number}","{when}","1","7700","","{road}","RD","","","","{call_type}","K","523","2"'


def _every_row_of_every_table() -> bytes:
    """Every value of every row of every table, as text (bytes as they are)."""
    out: list[bytes] = []
    with connection.cursor() as cur:
        for table in connection.introspection.table_names(cur):
            cur.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cur.fetchall():
                for value in row:
                    if isinstance(value, (bytes, bytearray, memoryview)):
                        out.append(bytes(value))
                    else:
                        out.append(str(value).encode("utf-8", "replace"))
    return b"\n".join(out)


def _found(blob: bytes | str, needles: list[str]) -> list[str]:
    low = (blob.encode("utf-8", "replace") if isinstance(blob, str) else blob).lower()
    return [n for n in needles if n.lower().encode() in low]


@pytest.mark.parametrize("policy", [RecordPolicy.CONSENT_ONLY, RecordPolicy.FULL])
def test_imported_identity_is_kept_only_where_the_policy_keeps_it(
    tmp_path: Path, policy: str
) -> None:
    tag = uuid.uuid4().hex[:8].upper()
    number, road = f"E23Q{tag}", f"CANARYWREN{tag}"
    agency = Agency.objects.create(name="Canary PD", slug="sdpd", record_policy=policy)
    path = tmp_path / "canary.csv"
    rows = [
        _row(number, road, "CW"),
        _row(f"{number}M", road, "5150"),
        _row(f"{number}O", road, "415"),
        _row(f"{number}R", road, "CW", when="not a time"),
    ]
    path.write_text("\n".join([SD_HEADER, *rows]) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    handler, levels = capture_all_logs()
    try:
        result = import_file(agency, "san_diego", path, reject_path=rejects)
    finally:
        release_logs(handler, levels)
    assert result.summary["checks_created"] == 2 and result.summary["rows_rejected"] == 1
    assert "INSERT INTO" in handler.text() or "COPY" in handler.text()  # the SQL was captured
    needles = [number, road]
    tables = _every_row_of_every_table()
    assert b"import.batch" in tables  # the scan reads the rows this import wrote
    assert _found(tables, needles) == [], "in plain text in a table"
    run_text = json.dumps([result.summary, result.notes, result.message])
    if policy == RecordPolicy.CONSENT_ONLY:
        assert set(WellnessCheck.objects.values_list("record_mode", flat=True)) == {"tally"}
        assert not CheckDetail.objects.exists()
        for where in (handler.text(), rejects.read_text(), run_text):
            assert _found(where, needles) == []
    else:  # the positive control: the same scans find what this policy keeps
        details = {d.incident_number: d.address for d in CheckDetail.objects.all()}
        assert details[number] == f"7700 {road} RD"
        assert _found(rejects.read_text(), needles) == [number, road]
