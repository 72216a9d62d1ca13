"""Daily jobs run once per day, a failing job does not stop the others, and consent lapses."""

from __future__ import annotations

import datetime as dt

import time_machine

from wellcheck.checks.inputs import CheckInput, ConsentInput, PersonInput
from wellcheck.checks.services import check_create
from wellcheck.core import schedule
from wellcheck.core.models import ScheduledRun
from wellcheck.testing.personas import World, recent


def test_each_job_runs_once_a_day_and_failures_are_recorded(db: None, monkeypatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(schedule, "JOBS", {})
    schedule.daily("ok-job")(lambda: calls.append("ok") or "done")

    def broken() -> str:
        raise RuntimeError("boom")

    schedule.daily("broken-job")(broken)
    monkeypatch.setattr(schedule, "_load_job_modules", lambda: None)
    day = dt.date(2026, 1, 5)
    first = schedule.run_due_jobs(day=day)
    assert first == {"broken-job": "failed: RuntimeError", "ok-job": "done"}
    assert schedule.run_due_jobs(day=day) == {}
    assert calls == ["ok"]
    schedule.run_due_jobs(day=day + dt.timedelta(days=1))
    assert calls == ["ok", "ok"]
    assert ScheduledRun.objects.filter(name="ok-job").count() == 2


def test_consent_lapse_job_deidentifies_after_a_year(consent_world: World) -> None:
    w = consent_world
    check = check_create(
        actor=w.officer_a,
        data=CheckInput(
            unit_id=w.unit_a.pk,
            received_at=recent(),
            address="1 Lapse St",
            person=PersonInput(given_name="Lapsing", family_name="Person"),
            consent=ConsentInput(),
        ),
    )
    assert not check.is_tally
    assert "0 person" in schedule.run_due_jobs()["consent-lapse"]
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=400), tick=False):
        result = schedule.run_due_jobs()
    assert result["consent-lapse"].startswith("1 person")
    check.refresh_from_db()
    assert check.is_tally


def test_every_daily_job_of_the_product_registers_and_runs(world: World) -> None:
    """The scheduler finds each app's jobs module; each job runs and says what it did."""
    check_create(
        actor=world.officer_a,
        data=CheckInput(unit_id=world.unit_a.pk, received_at=recent(), address="3 Job St"),
    )
    results = schedule.run_due_jobs()
    assert {
        "consent-lapse",
        "retention-review",
        "audit-unusual-access",
        "audit-checkpoint",
    } <= set(results)
    assert not [name for name, outcome in results.items() if outcome.startswith("failed")]
    assert results["audit-checkpoint"].startswith("checkpoint at tree size")
