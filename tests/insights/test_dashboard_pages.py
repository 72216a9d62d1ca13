"""The dashboard page and its exports: analysts get aggregates, never identity; exports are
audited."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from wellcheck.audit.models import AuditEvent
from wellcheck.checks.inputs import PersonInput
from wellcheck.testing.personas import World

from .test_rollups import LA, make_check

QUERY = {"from": "2023-01", "to": "2023-02"}


@pytest.fixture(autouse=True)
def _no_second_factor(settings: Any) -> None:
    """These tests are about the dashboard; the access tests cover the second factor."""
    settings.WELLCHECK_MFA_REQUIRED = False


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def data(world: World) -> World:
    person = PersonInput(
        given_name="Zelda", family_name="Uniquename", date_of_birth=dt.date(1950, 3, 4)
    )
    for i in range(6):
        make_check(
            world,
            dt.datetime(2023, 1, 2 + i, 10, tzinfo=LA),
            person=person,
            address="742 SECRETIVE TERRACE",
            narrative="Narrative-marker-XYZ",
            mental_health_related=i % 2 == 0,
            latitude=__import__("decimal").Decimal("32.715736"),
            longitude=__import__("decimal").Decimal("-117.161087"),
        )
    return world


def test_analyst_sees_aggregates_and_no_identity(data: World) -> None:
    response = client_for(data.analyst).get(reverse("insights:dashboard"), QUERY)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<svg" in body and "Checks per day" in body
    for secret in ("Uniquename", "Zelda", "SECRETIVE", "Narrative-marker", "1950-03-04", "32.71"):
        assert secret not in body
    assert "Same address as a check in the previous 12 months" in body


def test_officer_and_partner_cannot_open_the_dashboard(data: World) -> None:
    assert client_for(data.analyst).get(reverse("insights:dashboard")).status_code == 200
    for persona in (data.officer_a, data.partner, data.auditor):
        assert client_for(persona).get(reverse("insights:dashboard")).status_code == 403
    anonymous = Client().get(reverse("insights:dashboard"))
    assert anonymous.status_code == 302


def test_bad_filter_names_the_field(data: World) -> None:
    response = client_for(data.analyst).get(reverse("insights:dashboard"), {"from": "2023-13"})
    assert response.status_code == 400
    assert "Give the month as YYYY-MM" in response.content.decode()


def test_exports_are_audited_and_match_the_panel(data: World) -> None:
    client = client_for(data.analyst)
    url = reverse("insights:export", args=["volume_day", "csv"])
    response = client.get(url, QUERY)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["Day", "Checks"] and rows[1] == ["2023-01-02", "1"] and len(rows) == 7
    event = AuditEvent.objects.get(event_type="export")
    assert event.actor_id == data.analyst.pk and event.details["format"] == "csv"
    assert event.target_id == "volume_day" and event.details["rows"] == 6

    xlsx = client.get(reverse("insights:export", args=["outcome", "xlsx"]), QUERY)
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in sheet[2]] == ["Person safe, no action", 6]

    geo = client.get(reverse("insights:export", args=["hotspots", "geojson"]), QUERY)
    feature = json.loads(geo.content)["features"][0]
    assert feature["properties"]["checks"] == 6 and feature["geometry"]["type"] == "Polygon"
    assert AuditEvent.objects.filter(event_type="export").count() == 3
    assert (
        client.get(reverse("insights:export", args=["outcome", "geojson"]), QUERY).status_code
        == 404
    )


def test_hotspot_cells_below_the_minimum_are_not_shown(data: World, settings: Any) -> None:
    settings.WELLCHECK_HOTSPOT_MIN_CELL = 7
    geo = client_for(data.analyst).get(
        reverse("insights:export", args=["hotspots", "geojson"]), QUERY
    )
    assert json.loads(geo.content)["features"] == []


def test_dashboard_query_count_is_pinned(data: World) -> None:
    client = client_for(data.analyst)
    client.get(reverse("insights:dashboard"), QUERY)  # refreshes the rollups
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("insights:dashboard"), QUERY).status_code == 200
    panel_queries = [q for q in ctx.captured_queries if "insights_rollupcell" in q["sql"]]
    # one or two cell queries per panel (18 panels) plus the default period: not one per row
    assert len(panel_queries) <= 24, len(panel_queries)
    assert len(ctx.captured_queries) <= 45, len(ctx.captured_queries)
