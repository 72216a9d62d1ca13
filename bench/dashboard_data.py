"""Synthetic data for the dashboard benchmark, generated with SQL on PostgreSQL (fast: no ORM)."""

from __future__ import annotations

import datetime as dt
import random

import h3
from django.db import connection

from wellcheck.accounts.models import Agency, Unit, UnitKind, User
from wellcheck.accounts.permissions import Role
from wellcheck.checks.models import Code
from wellcheck.insights.cube import CellSink
from wellcheck.insights.models import Grain, RollupCell

START = "2021-01-01 00:00:00"
DAYS = 1095


def _ids(category: str) -> list[int]:
    return list(
        Code.objects.filter(agency__isnull=True, category=category).values_list("id", flat=True)
    )


def generate(n: int) -> Agency:
    agency = Agency.objects.create(name="Bench PD", slug="bench", time_zone="America/Los_Angeles")
    beats: list[int] = []
    for d in range(1, 10):
        district = Unit.objects.create(
            agency=agency, code=f"D{d}", name=f"District {d}", kind=UnitKind.DISTRICT
        )
        for b in range(1, 15):
            beat = Unit.objects.create(
                agency=agency, code=f"{d}{b:02d}", name=f"Beat {d}{b:02d}", parent=district
            )
            beats.append(beat.pk)
    analyst = User.objects.create(username="bench-analyst", agency=agency, role=Role.ANALYST)
    p = {
        "agency": agency.pk,
        "n": n,
        "beats": beats,
        "init": _ids("initiator"),
        "outc": _ids("outcome"),
        "tri": _ids("triage"),
        "rev": _ids("outcome_review"),
        "reasons": _ids("reason"),
        "refs": _ids("referral"),
        "start": START,
        "days": DAYS,
        "user": analyst.pk,
    }
    pick = "(%({0})s::bigint[])[1 + floor(random() * cardinality(%({0})s::bigint[]))::int]"
    with connection.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO checks_wellnesscheck (id, state, record_mode, source, received_at,
              mental_health_related, response_seconds, on_scene_seconds, created_at, updated_at,
              agency_id, unit_id, initiator_id, outcome_id, triage_id, outcome_review_id)
            SELECT gen_random_uuid(), 'approved', 'identified', 'entered',
              (%(start)s::timestamp AT TIME ZONE 'America/Los_Angeles')
                + (random() * %(days)s * 86400) * interval '1 second',
              random() < 0.3,
              CASE WHEN random() < 0.9 THEN (60 + random() * 4000)::int END,
              (120 + random() * 5000)::int, now(), now(), %(agency)s,
              {pick.format("beats")}, {pick.format("init")}, {pick.format("outc")},
              {pick.format("tri")},
              CASE WHEN random() < 0.2 THEN {pick.format("rev")} END
            FROM generate_series(1, %(n)s) g
            """,
            p,
        )
        for table, key, share in (
            ("checks_wellnesscheck_reasons", "reasons", 1.0),
            ("checks_wellnesscheck_reasons", "reasons", 0.3),
            ("checks_wellnesscheck_referrals", "refs", 0.4),
        ):
            cur.execute(
                f"""INSERT INTO {table} (wellnesscheck_id, code_id)
                SELECT id, {pick.format(key)} FROM checks_wellnesscheck
                WHERE agency_id = %(agency)s AND random() < {share}
                ON CONFLICT DO NOTHING""",
                p,
            )
        cur.execute(
            """INSERT INTO checks_checkdetail (check_record_id, incident_number, address,
              triage_rationale, narrative, address_key)
            SELECT id, '', '', '', '', md5('addr' || floor(random() * 50000)::text)
            FROM checks_wellnesscheck WHERE agency_id = %(agency)s""",
            p,
        )
        cur.execute(
            """INSERT INTO checks_followup (due_on, task, created_at, completed_at, result,
              assigned_to_id, check_record_id, created_by_id)
            SELECT (received_at + interval '7 days')::date, 'call back', now(),
              CASE WHEN random() < 0.7 THEN received_at + interval '5 days' END, '',
              %(user)s, id, %(user)s
            FROM checks_wellnesscheck WHERE agency_id = %(agency)s AND random() < 0.05""",
            p,
        )
        cur.execute(
            """INSERT INTO intake_callcount (agency_id, category, unit_code, day, calls, call_types)
            SELECT %(agency)s, cat, code, day, n, jsonb_build_object('X', n)
            FROM (SELECT cat, u.code, (%(start)s::date + d) AS day, (1 + random() * 30)::int AS n
              FROM accounts_unit u, generate_series(0, %(days)s - 1) d,
                unnest(ARRAY['welfare_check', 'mental_health', 'other']) cat
              WHERE u.agency_id = %(agency)s AND u.parent_id IS NOT NULL) s""",
            p,
        )
        cur.execute("ANALYZE")
    return agency


def synth_hexes(agency: Agency, per_beat_month: int = 15) -> int:
    """H3 cells for the hotspot panel (coordinates are encrypted, so SQL cannot make them)."""
    rng = random.Random(7)
    disk = sorted(h3.grid_disk(h3.latlng_to_cell(32.7157, -117.1611, 8), 25))
    sink = CellSink(agency.pk)
    beats = list(
        Unit.objects.filter(agency=agency, parent__isnull=False).values_list("id", flat=True)
    )
    for beat in beats:
        home = rng.randrange(len(disk) - 60)
        for m in range(36):
            month = dt.date(2021 + m // 12, m % 12 + 1, 1)
            for cell in rng.sample(disk[home : home + 60], per_beat_month):
                sink.add(beat, Grain.MONTH, month, "h3", cell, n=rng.randint(1, 40))
    RollupCell.objects.bulk_create(
        [RollupCell(agency_id=agency.pk, **vars(c)) for c in sink.cells.values()], batch_size=5000
    )
    return len(sink.cells)
