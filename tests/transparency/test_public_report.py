"""The public report: no sign-in, no cell below the threshold, nothing recoverable from totals,
the privacy budget stated, and `wellcheck publish` writing the same report as static files."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from wellcheck.accounts.models import Unit, UnitKind
from wellcheck.audit.models import AuditEvent
from wellcheck.checks.inputs import CheckInput, PersonInput
from wellcheck.checks.services import check_create
from wellcheck.testing.personas import World
from wellcheck.transparency.disclosure import ProtectedTable
from wellcheck.transparency.models import Release

from .test_disclosure import recoverable, single_unknown_lines

LA = ZoneInfo("America/Los_Angeles")
K = 11


@pytest.fixture
def published(world: World) -> World:
    d2 = Unit.objects.create(
        agency=world.agency, code="D2", name="District 2", kind=UnitKind.DISTRICT
    )
    beat_c = Unit.objects.create(agency=world.agency, code="C", name="Beat C", parent=d2)
    plan = [
        (world.unit_a.pk, "safe_no_action", 30),
        (world.unit_a.pk, "mobile_crisis", 3),
        (world.unit_b.pk, "advice_given", 14),
        (beat_c.pk, "safe_no_action", 5),
    ]
    i = 0
    for unit_id, outcome, count in plan:
        for _ in range(count):
            i += 1
            when = dt.datetime(2023, 1, 1 + i % 28, (i * 5) % 24, tzinfo=LA)
            check_create(
                actor=world.admin,
                data=CheckInput(
                    unit_id=unit_id,
                    received_at=when,
                    initiator="family",
                    reasons=("dementia",),
                    outcome=outcome,
                    mental_health_related=i % 3 == 0,
                    address="9 HIDDEN LANE",
                    person=PersonInput(given_name="Quentin", family_name="Privateperson"),
                ),
            )
    return world


def as_table(t: dict[str, Any]) -> ProtectedTable:
    """Rebuild what an attacker sees: published entries, suppressed ones unknown (None)."""
    grid = [[*r["values"], r["total"]] for r in t["rows"]]
    grid.append([*t["column_totals"], t["grand_total"]])
    hidden = {(i, j) for i, row in enumerate(grid) for j, v in enumerate(row) if v is None}
    values = [[0 if v is None else v for v in row] for row in grid]
    return ProtectedTable(values=values, hidden=hidden, threshold=K)


def assert_report_safe(report: dict[str, Any]) -> None:
    assert report["suppression_threshold"] == K
    totals_seen: dict[int, set[Any]] = {}
    for t in report["tables"]:
        for row in t["rows"]:
            for v in [*row["values"], row["total"]]:
                assert v is None or v == 0 or v >= K, (t["name"], v)
        for v in [*t["column_totals"], t["grand_total"]]:
            assert v is None or v == 0 or v >= K, (t["name"], v)
        table = as_table(t)
        assert not single_unknown_lines(table), t["name"]
        assert not recoverable(table), t["name"]
        if not t["counts_mentions"]:
            for i, row in enumerate(t["rows"]):
                totals_seen.setdefault(i, set()).add(row["total"])
            totals_seen.setdefault(-1, set()).add(t["grand_total"])
    # linked tables: an area total is hidden in all or shown in all (else one gives another away);
    # with noise each table's totals are its own noisy sums, so they differ by design
    if report["differential_privacy"] is not None:
        return
    for seen in totals_seen.values():
        assert len(seen) == 1, totals_seen


def test_public_page_needs_no_sign_in_and_shows_no_identity(published: World) -> None:
    client = Client()
    page = client.get(reverse("transparency:report", args=[published.agency.slug, "2023-01"]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body and "suppressed" in body and "Differential privacy noise is off" in body
    for secret in ("Privateperson", "Quentin", "HIDDEN LANE"):
        assert secret not in body
    assert client.get(reverse("transparency:index")).status_code == 200
    listing = client.get(reverse("transparency:agency", args=[published.agency.slug]))
    assert "2023-01" in listing.content.decode() and "2023-Q1" in listing.content.decode()
    assert client.get(reverse("transparency:report", args=["nope", "2023-01"])).status_code == 404
    assert (
        client.get(
            reverse("transparency:report", args=[published.agency.slug, "2023-13"])
        ).status_code
        == 404
    )


def test_published_json_respects_threshold_and_resists_the_margin_attack(published: World) -> None:
    report = (
        Client()
        .get(reverse("transparency:report_json", args=[published.agency.slug, "2023-Q1"]))
        .json()
    )
    names = [t["name"] for t in report["tables"]]
    assert names == [
        "outcome",
        "initiator",
        "reason",
        "referral",
        "time_of_day",
        "mental_health",
        "month",
    ]
    assert_report_safe(report)
    outcome = next(t for t in report["tables"] if t["name"] == "outcome")
    rows = {r["area"]: r for r in outcome["rows"]}
    crisis = outcome["columns"].index("Referred to mobile crisis team")
    assert rows["D1 District 1"]["values"][crisis] is None  # 3 checks
    advice = outcome["columns"].index("Advice given")
    assert rows["D2 District 2"]["values"][advice] == 0  # zeros are published
    assert rows["D2 District 2"]["total"] is None  # 5 checks: suppressed everywhere
    # District 1's 47 and the grand total 52 cannot both be shown: 52 - 47 gives District 2 away
    shown = [v for v in (rows["D1 District 1"]["total"], outcome["grand_total"]) if v is not None]
    assert shown in ([], [47], [52])


def test_csv_and_dictionary(published: World) -> None:
    client = Client()
    text = client.get(reverse("transparency:report_csv", args=[published.agency.slug, "2023-01"]))
    rows = list(csv.reader(text.content.decode().splitlines()))
    assert rows[0] == ["period", "table", "area", "category", "count", "status"]
    for r in rows[1:]:
        assert (r[5] == "suppressed" and r[4] == "") or (
            r[5] == "published" and (r[4] == "0" or int(r[4]) >= K)
        )
    fields = client.get(reverse("transparency:dictionary", args=["json"])).json()["fields"]
    assert [f["field"] for f in fields] == rows[0]


def test_noise_is_drawn_once_per_release_and_the_budget_is_stated(
    published: World, settings: Any
) -> None:
    settings.WELLCHECK_PUBLIC_EPSILON = 1.0
    client = Client()
    url = reverse("transparency:report_json", args=[published.agency.slug, "2023-01"])
    first, second = client.get(url).json(), client.get(url).json()
    assert first == second and Release.objects.count() == 1
    dp = first["differential_privacy"]
    assert dp["epsilon_per_table"] == 1.0 and dp["epsilon_total"] == pytest.approx(6.0)
    assert_report_safe(first)
    page = client.get(reverse("transparency:report", args=[published.agency.slug, "2023-01"]))
    assert "Differential privacy is on" in page.content.decode()
    assert "ε = 6.0 for this whole report" in page.content.decode().replace("&epsilon;", "ε")


def test_publish_command_writes_static_report(published: World, tmp_path: Path) -> None:
    out = tmp_path / "site"
    call_command(
        "publish", "--period", "2023-01", "--out", str(out), "--agency", published.agency.slug
    )
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {
        "index.html",
        "report.csv",
        "report.json",
        "data_dictionary.csv",
        "data_dictionary.json",
        "static/wellcheck/app.css",
        "static/insights/insights.css",
    } <= names
    html = (out / "index.html").read_text()
    assert 'href="static/insights/insights.css"' in html and "<svg" in html
    report = json.loads((out / "report.json").read_text())
    assert_report_safe(report)
    live = (
        Client()
        .get(reverse("transparency:report_json", args=[published.agency.slug, "2023-01"]))
        .json()
    )
    assert report["tables"] == live["tables"]
    event = AuditEvent.objects.get(event_type="export", target_type="transparency.report")
    assert event.component == "cli" and event.details["period"] == "2023-01"


def test_publish_command_refuses_bad_input(published: World, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="--period: Give the period as YYYY-MM or YYYY-Qn"):
        call_command(
            "publish", "--period", "Jan", "--out", str(tmp_path), "--agency", published.agency.slug
        )
    with pytest.raises(CommandError, match="several agencies"):
        call_command("publish", "--period", "2023-01", "--out", str(tmp_path))
    assert not any(tmp_path.iterdir())
