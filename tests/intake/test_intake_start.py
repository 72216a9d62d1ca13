"""A run with nothing to resume starts its parsing process before the file is hashed and the run
opened (``engine._run``). Should a run to resume turn up meanwhile (another process's, left
unfinished), the early parsing process is stopped and a new one starts where that run stopped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from wellcheck.accounts.models import Agency
from wellcheck.checks.models import WellnessCheck
from wellcheck.core.errors import ServiceError
from wellcheck.intake import engine, producer, services
from wellcheck.intake.models import ImportRun, RunStatus
from wellcheck.intake.testing import SD_HEADER, import_file

pytestmark = pytest.mark.django_db


def sd_row(i: int) -> str:
    call_type = "CW" if i % 3 == 0 else "415"
    return (
        f'"E{i:06d}","2023-01-01 10:{i % 60:02d}:00","1","1900","","05TH","AVE","","","",'
        f'"{call_type}","K","5{i % 4}","2"'
    )


@pytest.fixture
def sdpd() -> Agency:
    return Agency.objects.create(name="San Diego PD", slug="sdpd", time_zone="America/Los_Angeles")


def test_a_run_to_resume_found_late_restarts_the_parsing_where_it_stopped(
    sdpd: Agency, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "calls.csv"
    path.write_text("\n".join([SD_HEADER, *(sd_row(i) for i in range(90))]) + "\n")
    write = services.import_batch_write
    done: list[int] = []

    def fail_third(**kw: Any) -> Any:
        if len(done) == 2:
            raise ServiceError("the database went away", field="run")
        done.append(1)
        return write(**kw)

    monkeypatch.setattr(services, "import_batch_write", fail_third)  # both databases' path
    with pytest.raises(ServiceError):
        import_file(sdpd, "san_diego", path, batch_size=20)
    left = ImportRun.objects.get()
    assert left.status == RunStatus.FAILED and left.rows_done == 40

    # The race: no run to resume when asked, one there when the run is opened.
    monkeypatch.setattr(services, "import_batch_write", write)
    monkeypatch.setattr(services, "import_run_unfinished", lambda **kw: False)
    started: list[int] = []
    start = engine._start

    def spy(ctx: Any, path: Path, *, batch_size: int, skip: int) -> producer.Producer:
        started.append(skip)
        return start(ctx, path, batch_size=batch_size, skip=skip)

    monkeypatch.setattr(engine, "_start", spy)
    result = import_file(sdpd, "san_diego", path, batch_size=20)
    assert started == [0, 40]  # the early one, then the one resuming
    assert result.run is not None and result.run.pk == left.pk
    assert result.summary["rows_read"] == 90  # the first 40 rows read once, not twice
    assert result.summary["checks_created"] == WellnessCheck.objects.count() == 30
