"""``intake.CallCount``: one row per (category, beat, day) per batch, its call types in a map.

The counts per call type, beat and day read from the maps equal an independent count of the
file (the csv module, the profile's call types); a changed call moves between call types inside
one row or between rows; ``calls`` is the sum of its row's map in every row; the COPY text and
the SQLite rows keep odd characters; migration 0006 turns the old rows (one per call type) into
maps and back, keeping every count. On SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from wellcheck.accounts.models import Agency
from wellcheck.intake.ledger import add_counts, count_text
from wellcheck.intake.models import CallCount
from wellcheck.intake.testing import SD_HEADER, import_file

Totals = dict[tuple[str, str, str, str], int]  # (category, call type, beat, day) -> calls
AgencyTotals = dict[tuple[str, str, str, str, str], int]  # the same with the agency's slug first

CATEGORY = {"CW": "welfare_check", "5150": "mental_health", "5150V": "mental_health"}
TYPES = ["415", "459", "1186", "T", "FD", "ALARM", "911", "MISC", "CW", "5150", "5150V"]
BEATS = ["111", "112", "523", "614", "-1"]


def sd_row(num: str, when: str, call_type: str, beat: str) -> str:
    return f'"{num}","{when}","1","1900","","05TH","AVE","","","","{call_type}","K","{beat}","2"'


def write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([SD_HEADER, *lines]) + "\n")
    return path


def file_totals(path: Path) -> Totals:
    """The calls of a file per (category, call type, beat, day), counted here independently of
    the importer: the last row of an incident number wins; beat -1 is UNKNOWN (the profile)."""
    last: dict[str, tuple[str, str, str, str]] = {}
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            beat = "UNKNOWN" if row["beat"] == "-1" else row["beat"]
            category = CATEGORY.get(row["call_type"], "other")
            last[row["incident_num"]] = (category, row["call_type"], beat, row["date_time"][:10])
    return dict(Counter(last.values()))


def db_totals() -> Totals:
    """The calls per (category, call type, beat, day), read from the rows' maps; checks that
    every row's ``calls`` is the sum of its map and that no map holds a zero."""
    out: Counter[tuple[str, str, str, str]] = Counter()
    for c in CallCount.objects.all():
        assert c.calls == sum(c.call_types.values()), c.call_types
        assert all(c.call_types.values()), c.call_types
        for call_type, n in c.call_types.items():
            out[(c.category, call_type, c.unit_code, c.day.isoformat())] += n
    return {g: n for g, n in out.items() if n}


@pytest.fixture
def sdpd(db: None) -> Agency:
    return Agency.objects.create(name="San Diego PD", slug="sdpd", time_zone="America/Los_Angeles")


@pytest.mark.django_db
def test_per_call_type_counts_equal_the_file(sdpd: Agency, tmp_path: Path) -> None:
    rng = random.Random(6)
    lines = []
    for i in range(1500):
        when = dt.datetime(2023, 6, 1, 0, 0) + dt.timedelta(minutes=rng.randrange(4 * 24 * 60))
        call_type = rng.choice(TYPES)
        lines.append(sd_row(f"E{i}", f"{when:%Y-%m-%d %H:%M:%S}", call_type, rng.choice(BEATS)))
    lines += [lines[7].replace('"E7"', '"E1500"'), lines[9]]  # another call; a repeated one
    path = write(tmp_path, "gen.csv", lines)
    expected = file_totals(path)
    assert sum(expected.values()) == 1501 and len({g[0] for g in expected}) == 3

    summary = import_file(sdpd, "san_diego", path).summary
    assert summary["rows_read"] == 1502
    assert db_totals() == expected
    # one batch: one row per (category, beat, day), fewer than one per call type
    rows = {(g[0], g[2], g[3]) for g in expected}
    assert CallCount.objects.count() == len(rows) < len(expected)

    again = import_file(sdpd, "san_diego", path).summary
    assert again["other_calls_counted"] == 0 and again["checks_created"] == 0
    assert CallCount.objects.count() == len(rows)  # nothing changed: no row written
    assert db_totals() == expected


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [10000, 2])
def test_changed_calls_move_between_call_types_and_rows(
    sdpd: Agency, tmp_path: Path, batch_size: int
) -> None:
    first = write(
        tmp_path,
        "a.csv",
        [
            sd_row("O1", "2023-01-01 10:00:00", "415", "111"),
            sd_row("O2", "2023-01-01 11:00:00", "415", "111"),
            sd_row("O4", "2023-01-02 10:00:00", "415", "222"),
            sd_row("W1", "2023-01-03 10:00:00", "CW", "111"),
        ],
    )
    import_file(sdpd, "san_diego", first, batch_size=batch_size)
    assert db_totals() == file_totals(first)
    last = max(CallCount.objects.values_list("id", flat=True))
    second = write(
        tmp_path,
        "b.csv",
        [
            sd_row("O1", "2023-01-01 10:00:00", "459", "111"),  # another call type, same row
            sd_row("O2", "2023-01-01 11:00:00", "415", "111"),  # unchanged
            sd_row("O4", "2023-01-02 10:00:00", "415", "333"),  # another beat: another row
            sd_row("W1", "2023-01-03 10:00:00", "415", "111"),  # another category (check kept)
        ],
    )
    summary = import_file(sdpd, "san_diego", second, batch_size=batch_size).summary
    assert summary["other_calls_counted"] == 0 and summary["checks_created"] == 0
    assert db_totals() == file_totals(second)
    written = sorted(
        (c.category, c.unit_code, c.day.isoformat(), c.calls, c.call_types)
        for c in CallCount.objects.filter(id__gt=last)
    )
    moved: list[tuple[str, str, str, int, dict[str, int]]] = [
        ("other", "111", "2023-01-01", 0, {"415": -1, "459": 1}),
        ("other", "111", "2023-01-03", 1, {"415": 1}),
        ("other", "222", "2023-01-02", -1, {"415": -1}),
        ("other", "333", "2023-01-02", 1, {"415": 1}),
        ("welfare_check", "111", "2023-01-03", -1, {"CW": -1}),
    ]
    if batch_size == 10000:  # one batch: exactly these rows
        assert written == moved

    def expand(rows: list[tuple[str, str, str, int, dict[str, int]]]) -> Totals:
        out: Counter[tuple[str, str, str, str]] = Counter()
        for category, unit_code, day, _, types in rows:
            for call_type, n in types.items():
                out[(category, call_type, unit_code, day)] += n
        return {g: n for g, n in out.items() if n}

    assert expand(written) == expand(moved)  # in any number of batches
    last = max(CallCount.objects.values_list("id", flat=True))
    import_file(sdpd, "san_diego", second, batch_size=batch_size)
    assert not CallCount.objects.filter(id__gt=last).exists()


ODD = ["A\tB", "back\\slash", 'quo"te', "new\nline", "café", "\\N", ""]


def test_count_text_makes_one_line_per_row_without_the_database() -> None:
    """No database access here (no ``django_db`` mark: pytest-django would refuse it)."""
    agency = uuid.uuid4()
    deltas = Counter(
        {
            ("other", "415", "111", "2023-01-01"): 2,
            ("other", "459", "111", "2023-01-01"): -1,
            ("other", "911", "111", "2023-01-01"): 0,  # no delta: left out
            ("other", "911", "222", "2023-01-01"): 0,  # a row of zeros only: no line
            ("welfare_check", "CW", "111", "2023-01-01"): 1,
        }
    )
    lines = sorted(count_text(agency, deltas).splitlines())
    assert lines == [
        f'other\t111\t2023-01-01\t1\t{{"415":2,"459":-1}}\t{agency}',
        f'welfare_check\t111\t2023-01-01\t1\t{{"CW":1}}\t{agency}',
    ]
    assert count_text(agency, Counter({("other", "415", "111", "2023-01-01"): 0})) == ""


@pytest.mark.django_db
def test_add_counts_keeps_odd_call_types_and_beats(sdpd: Agency) -> None:
    deltas: Counter[Any] = Counter()
    for i, call_type in enumerate(ODD):
        deltas[("other", call_type, "111", "2023-01-01")] = i + 1
        deltas[("other", "415", ODD[-1 - i], "2023-01-02")] = -(i + 1)
    deltas[("other", "415", "111", "2023-01-03")] = 0
    text = count_text(sdpd.pk, deltas) if connection.vendor == "postgresql" else None
    add_counts(sdpd.pk, deltas, text)
    add_counts(sdpd.pk, Counter({("other", "415", "111", "2023-01-04"): 0}))  # nothing to add
    rows = {
        (c.unit_code, c.day.isoformat()): (c.calls, c.call_types) for c in CallCount.objects.all()
    }
    expected = {("111", "2023-01-01"): (28, {t: i + 1 for i, t in enumerate(ODD)})}
    for i, beat in enumerate(reversed(ODD)):
        expected[(beat, "2023-01-02")] = (-(i + 1), {"415": -(i + 1)})
    assert rows == expected
    if connection.vendor == "postgresql":  # stored as jsonb: an object, keys as written
        with connection.cursor() as cur:
            cur.execute("SELECT DISTINCT jsonb_typeof(call_types) FROM intake_callcount")
            assert cur.fetchall() == [("object",)]
    else:  # stored as JSON text with sorted keys: the same rows give the same bytes
        with connection.cursor() as cur:
            cur.execute("SELECT call_types FROM intake_callcount WHERE day = '2023-01-01'")
            (stored,) = cur.fetchone()
        assert stored == json.dumps(
            expected[("111", "2023-01-01")][1], sort_keys=True, separators=(",", ":")
        )


OLD_ROWS = [  # (agency, category, call type, beat, day, calls): the log before 0006
    (0, "other", "415", "111", "2023-01-01", 3),
    (0, "other", "415", "111", "2023-01-01", -1),  # a call moved away
    (0, "other", "459", "111", "2023-01-01", 1),
    (0, "other", "911", "111", "2023-01-01", 1),
    (0, "other", "911", "111", "2023-01-01", -1),  # a type whose count is zero: left out
    (0, "other", "415", "222", "2023-01-01", 1),
    (0, "other", "415", "222", "2023-01-01", -1),  # a whole row of zeros: no row
    (0, "welfare_check", "CW", "111", "2023-01-01", 2),
    (0, "other", "415", "", "2023-01-02", 4),  # no beat
    (0, "other", 'quo"te\\', "111", "2023-01-02", 2),
    (1, "other", "415", "111", "2023-01-01", 5),  # another agency, same group
]


def _old_totals(rows: list[tuple[Any, ...]]) -> AgencyTotals:
    out: Counter[tuple[str, str, str, str, str]] = Counter()
    for slug, category, call_type, beat, day, calls in rows:
        out[(slug, category, call_type, beat, str(day))] += calls
    return {g: n for g, n in out.items() if n}


@pytest.mark.django_db(transaction=True)
def test_migration_0006_turns_old_rows_into_maps_and_back() -> None:
    from django.db.migrations.executor import MigrationExecutor

    agencies = [
        Agency.objects.create(name="A PD", slug="apd", time_zone="America/Los_Angeles"),
        Agency.objects.create(name="B PD", slug="bpd", time_zone="America/Chicago"),
    ]
    slug_of = {a.pk.hex: a.slug for a in agencies}
    old = [(agencies[a].slug, *rest) for a, *rest in OLD_ROWS]
    expected = _old_totals(old)

    def old_shape() -> list[tuple[Any, ...]]:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT agency_id, category, call_type, unit_code, day, calls FROM intake_callcount"
            )
            return [(slug_of[uuid.UUID(str(r[0])).hex], *r[1:]) for r in cur.fetchall()]

    executor = MigrationExecutor(connection)
    executor.migrate([("intake", "0005_ledger_pages")])
    try:
        with connection.cursor() as cur:  # the rows as the importer wrote them before 0006
            cur.executemany(
                "INSERT INTO intake_callcount (agency_id, category, call_type, unit_code, day, "
                "calls) VALUES (%s, %s, %s, %s, %s, %s)",
                [(agencies[a].pk.hex, *rest) for a, *rest in OLD_ROWS],
            )
        assert _old_totals(old_shape()) == expected
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes("intake"))

    rows = {
        (c.agency.slug, c.category, c.unit_code, c.day.isoformat()): (c.calls, c.call_types)
        for c in CallCount.objects.all()
    }
    assert rows == {
        ("apd", "other", "111", "2023-01-01"): (3, {"415": 2, "459": 1}),
        ("apd", "welfare_check", "111", "2023-01-01"): (2, {"CW": 2}),
        ("apd", "other", "", "2023-01-02"): (4, {"415": 4}),
        ("apd", "other", "111", "2023-01-02"): (2, {'quo"te\\': 2}),
        ("bpd", "other", "111", "2023-01-01"): (5, {"415": 5}),
    }
    assert CallCount.objects.count() == len(rows)
    got: AgencyTotals = {}
    for (slug, category, beat, day), (_, types) in rows.items():
        for call_type, n in types.items():
            got[(slug, category, call_type, beat, day)] = n
    assert got == expected

    executor = MigrationExecutor(connection)
    executor.migrate([("intake", "0005_ledger_pages")])  # and back: one row per call type
    try:
        back = old_shape()
        assert _old_totals(back) == expected
        assert len(back) == len(expected)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes("intake"))
    assert CallCount.objects.count() == len(rows)
