"""The "no record" policy canary.

In a ``consent_only`` agency, a check recorded WITHOUT consent to ongoing support, through the web
form and through the API, carries a unique made-up name, birth date (in the ways it is rendered),
address, incident number and narrative. None of these strings may appear:

(a) in the bytes of the SQLite database file (and its -wal/-shm files), in a fresh data folder
    driven by a subprocess, as a deployment would be;
(b) in a ``pg_dump`` of the PostgreSQL test database (when the suite runs on PostgreSQL);
(c) in the log output of every logger at DEBUG level, SQL statements with their parameters
    included;
(d) in any row of the audit table;
nor in the error a failing submission gets back, nor in the cache.

The positive control records the same canaries WITH consent and finds them stored: in the raw
bytes, or, if a column is encrypted at rest, as a ciphertext envelope in that column that the
application reads back as the canary. So the scans are shown able to fail.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

REPO = Path(__file__).resolve().parents[1]
API = "/api/v1/checks/"


@dataclass(frozen=True)
class Canary:
    """A unique, obviously made-up identity; ``strings()`` are what must never be written."""

    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    @property
    def given(self) -> str:
        return f"Zebulonia{self.tag}"

    @property
    def family(self) -> str:
        return f"Quillwhistle{self.tag}"

    @property
    def alias(self) -> str:
        return f"Canarybird{self.tag}"

    @property
    def dob(self) -> dt.date:
        # A birth date derived from the tag, so two runs never share one.
        return dt.date(1931, 1, 1) + dt.timedelta(days=int(self.tag, 16) % 20000)

    @property
    def address(self) -> str:
        return f"7700 BLOCK CANARYWREN {self.tag.upper()} RD"

    @property
    def narrative(self) -> str:
        return f"The canary {self.tag} sang at dawn beside the lighthouse."

    @property
    def incident(self) -> str:
        return f"E99{self.tag.upper()}"

    @property
    def rationale(self) -> str:
        return f"Rationale canary {self.tag}"

    def strings(self) -> dict[str, str]:
        d = self.dob
        return {
            "given name": self.given,
            "family name": self.family,
            "alias": self.alias,
            "birth date (ISO)": d.isoformat(),
            "birth date (US)": d.strftime("%m/%d/%Y"),
            "birth date (US, short)": f"{d.month}/{d.day}/{d.year}",
            "birth date (compact)": d.strftime("%Y%m%d"),
            "address": self.address,
            "narrative": self.narrative,
            "incident number": self.incident,
            "triage rationale": self.rationale,
        }


def found_in(blob: bytes | str, canary: Canary) -> list[str]:
    """Which canary strings occur in ``blob`` (UTF-8 and UTF-16 encodings, case-insensitive)."""
    if isinstance(blob, str):
        blob = blob.encode("utf-8", "replace")
    low = blob.lower()
    hits = []
    for what, text in canary.strings().items():
        needles = [text.lower().encode(), text.lower().encode("utf-16-le")]
        if any(n in low for n in needles):
            hits.append(what)
    return hits


# --- recording, the same in this process and in the subprocess --------------------------------


def form_data(world: Any, canary: Canary, *, consent: bool, **over: Any) -> dict[str, Any]:
    received = timezone.localtime() - dt.timedelta(hours=2)
    data: dict[str, Any] = {
        "unit": world.unit_a.pk,
        "received_at": received.strftime("%Y-%m-%dT%H:%M"),
        "incident_number": canary.incident,
        "initiator": "family",
        "reasons": ["mental_health", "missed_contact"],
        "address": canary.address,
        "triage": "attend",
        "triage_rationale": canary.rationale,
        "caller_told": "yes",
        "arrived_at": (received + dt.timedelta(minutes=14)).strftime("%Y-%m-%dT%H:%M"),
        "observed": ["hopeless"],
        "outcome": "resources_offered",
        "referrals": ["crisis_line"],
        "narrative": canary.narrative,
        "given_name": canary.given,
        "family_name": canary.family,
        "date_of_birth": canary.dob.isoformat(),
        "aliases": canary.alias,
        "consent_method": "verbal",
    }
    if consent:
        data["consent_scopes"] = ["ongoing_support"]
    data.update(over)
    return data


def api_data(world: Any, canary: Canary, *, consent: bool, **over: Any) -> dict[str, Any]:
    received = timezone.now() - dt.timedelta(hours=3)
    data: dict[str, Any] = {
        "unit": world.unit_a.pk,
        "received_at": received.isoformat(),
        "incident_number": canary.incident,
        "initiator": "neighbour",
        "reasons": ["suicide_risk"],
        "address": canary.address,
        "triage": "attend",
        "triage_rationale": canary.rationale,
        "caller_told": False,
        "arrived_at": (received + dt.timedelta(minutes=9)).isoformat(),
        "outcome": "mobile_crisis",
        "narrative": canary.narrative,
        "person": {
            "given_name": canary.given,
            "family_name": canary.family,
            "date_of_birth": canary.dob.isoformat(),
            "aliases": [canary.alias],
        },
    }
    if consent:
        data["consent"] = {"scopes": ["ongoing_support"], "method": "verbal"}
    data.update(over)
    return data


def record_everywhere(world: Any, canary: Canary, *, consent: bool) -> dict[str, Any]:
    """Record the canary check through the web form and the API, and try two failing submissions.
    Returns what the client saw, for the caller to scan."""
    client = Client()
    client.force_login(world.officer_a)
    seen: dict[str, Any] = {"responses": [], "errors": []}

    form = client.post(reverse("checks:new"), form_data(world, canary, consent=consent))
    assert form.status_code == 302, form.content[:2000]
    seen["responses"].append(form.content.decode() + str(form.cookies) + str(form.headers))
    page = client.get(form["Location"])
    assert page.status_code == 200
    if not consent:
        seen["responses"].append(page.content.decode())

    api = client.post(
        API, api_data(world, canary, consent=consent), content_type="application/json"
    )
    assert api.status_code == 201, api.content
    seen["api"] = api.json()
    if not consent:
        seen["responses"].append(api.content.decode())
        seen["responses"].append(client.get(f"{API}{api.json()['id']}/").content.decode())
    seen["responses"].append(client.get(API).content.decode())

    # Failing submissions: an impossible arrival time (service error) and an unknown code.
    bad_time = (timezone.localtime() - dt.timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M")
    failed = client.post(
        reverse("checks:new"), form_data(world, canary, consent=consent, arrived_at=bad_time)
    )
    assert failed.status_code == 400
    form_errors = failed.context["form"].errors.get_json_data() if failed.context else {}
    assert "arrived_at" in form_errors, form_errors
    seen["errors"].append(json.dumps(form_errors))
    for body in (
        api_data(world, canary, consent=consent, reasons=["no_such_reason"]),
        api_data(world, canary, consent=consent, arrived_at="2001-01-01T00:00:00Z"),
    ):
        bad = client.post(API, body, content_type="application/json")
        assert bad.status_code == 400, bad.content
        seen["errors"].append(bad.content.decode())
    return seen


class LogCapture(logging.Handler):
    """Every record of every logger, formatted with its arguments; SQL included."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        extra = {k: v for k, v in vars(record).items() if k in ("sql", "params", "args")}
        self.lines.append(f"{record.name} {record.levelname} {text} {extra!r}")

    def text(self) -> str:
        return "\n".join(self.lines)


def capture_all_logs() -> tuple[LogCapture, dict[str, int]]:
    """Attach to root at DEBUG, every known logger at DEBUG, and log SQL with parameters."""
    handler = LogCapture()
    levels = {"": logging.getLogger().level}
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.DEBUG)
    for name in [*logging.root.manager.loggerDict, "django.db.backends", "django.request"]:
        logger = logging.getLogger(name)
        levels[name] = logger.level
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
    connection.force_debug_cursor = True
    return handler, levels


def release_logs(handler: LogCapture, levels: dict[str, int]) -> None:
    connection.force_debug_cursor = False
    logging.getLogger().removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name or None).setLevel(level)


def audit_rows_text() -> str:
    from wellcheck.audit.models import AuditEvent

    return "\n".join(json.dumps(row, default=str) for row in AuditEvent.objects.values())


def cache_text() -> bytes:
    store = getattr(cache, "_cache", {})
    return b"".join(v if isinstance(v, bytes) else repr(v).encode() for v in store.values())


# --- (b, c, d) in this process: logs, audit rows, cache, and pg_dump on PostgreSQL -------------


def pg_dump_text() -> str:
    s = connection.settings_dict
    cmd = [
        "pg_dump",
        "--no-owner",
        "--no-privileges",
        "-h",
        s["HOST"] or "127.0.0.1",
        "-p",
        str(s["PORT"] or 5432),
        "-U",
        s["USER"] or "postgres",
        s["NAME"],
    ]
    env = {**os.environ}
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = s["PASSWORD"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True, timeout=120)
    assert "CREATE TABLE" in done.stdout
    return done.stdout


def restore_shared_codes() -> None:
    """A transactional test before this one flushed the database, data migrations included: put
    back the shared taxonomy codes (as migration 0002 loads them). No-op when they are there."""
    from wellcheck.checks.models import Code
    from wellcheck.checks.taxonomy import DEFAULT_CODES

    if Code.objects.filter(agency__isnull=True).exists():
        return
    Code.objects.bulk_create(
        Code(agency=None, category=str(category), code=code, label=label, sort_order=order)
        for category, codes in DEFAULT_CODES.items()
        for order, (code, label) in enumerate(codes)
    )


@pytest.fixture
def consent_only_world(transactional_db: None) -> Iterator[Any]:
    from wellcheck.accounts.models import RecordPolicy
    from wellcheck.testing.personas import make_world

    cache.clear()
    restore_shared_codes()
    yield make_world(policy=RecordPolicy.CONSENT_ONLY, slug="canarypd")
    cache.clear()


@pytest.mark.django_db(transaction=True)
def test_no_consent_leaves_no_trace(consent_only_world: Any) -> None:
    from wellcheck.checks.models import CheckDetail, RecordMode, WellnessCheck
    from wellcheck.people.models import Person

    world, canary = consent_only_world, Canary()
    handler, levels = capture_all_logs()
    try:
        seen = record_everywhere(world, canary, consent=False)
    finally:
        release_logs(handler, levels)

    checks = list(WellnessCheck.objects.filter(agency=world.agency))
    assert len(checks) == 2 and {c.record_mode for c in checks} == {RecordMode.TALLY}
    assert all(c.received_at.minute == 0 and c.received_at.second == 0 for c in checks)
    assert not CheckDetail.objects.exists() and not Person.objects.exists()
    # The scans: the data committed (transactional test), so a dump sees what a backup would.
    assert "INSERT INTO" in handler.text()  # the capture does see SQL with its parameters
    assert found_in(handler.text(), canary) == [], "identity in the log output"
    assert found_in(audit_rows_text(), canary) == [], "identity in the audit table"
    assert found_in(cache_text(), canary) == [], "identity in the cache"
    for error in seen["errors"]:
        assert found_in(error, canary) == [], f"identity echoed in an error: {error[:300]}"
    for body in seen["responses"]:
        assert found_in(body, canary) == [], "identity shown back for a tally"
    if connection.vendor == "postgresql":
        dump = pg_dump_text()
        assert "check.tallied" in dump  # the dump holds the rows this test wrote
        assert found_in(dump, canary) == [], "identity in the PostgreSQL dump"


@pytest.mark.django_db(transaction=True)
def test_positive_control_with_consent_identity_is_stored(consent_only_world: Any) -> None:
    from wellcheck.checks.models import CheckDetail, RecordMode, WellnessCheck
    from wellcheck.people.models import Person

    world, canary = consent_only_world, Canary()
    handler, levels = capture_all_logs()
    try:
        seen = record_everywhere(world, canary, consent=True)
    finally:
        release_logs(handler, levels)

    checks = list(WellnessCheck.objects.filter(agency=world.agency))
    assert len(checks) == 2 and {c.record_mode for c in checks} == {RecordMode.IDENTIFIED}
    people = list(Person.objects.all())
    assert {(p.given_name, p.family_name, p.date_of_birth) for p in people} == {
        (canary.given, canary.family, canary.dob)
    }
    assert {d.narrative for d in CheckDetail.objects.all()} == {canary.narrative}
    assert seen["api"]["detail"]["person"]["family_name"] == canary.family
    # Even with consent, the audit trail and logs never hold the plaintext.
    assert found_in(audit_rows_text(), canary) == []
    for error in seen["errors"]:
        assert found_in(error, canary) == []
    if connection.vendor == "postgresql":

        def select(table: str, column: str) -> list[Any]:
            with connection.cursor() as cursor:
                cursor.execute(f'SELECT "{column}" FROM "{table}"')  # noqa: S608 (fixed names)
                return [row[0] for row in cursor.fetchall()]

        assert_stored(canary, select)
        plant(world.agency.pk, canary)
        assert "family name" in found_in(pg_dump_text(), canary)  # the dump scan can fail


CIPHERTEXT = re.compile(r"^wc\d+:[A-Za-z0-9_-]+:[A-Za-z0-9+/=_-]{20,}$")


def stored_columns(canary: Canary) -> dict[str, dict[str, str]]:
    """Where a record WITH consent keeps each canary: table -> column -> plaintext."""
    return {
        "people_person": {"given_name": canary.given, "family_name": canary.family},
        "checks_checkdetail": {
            "address": canary.address,
            "narrative": canary.narrative,
            "incident_number": canary.incident,
            "triage_rationale": canary.rationale,
        },
    }


def assert_stored(canary: Canary, select: Any) -> None:
    """Positive control: each canary column holds, in every row, the canary itself or (when the
    column is encrypted at rest) a ciphertext envelope. ``select(table, column)`` returns the raw
    stored values. The application reads them back as the canary (asserted by the callers)."""
    for table, columns in stored_columns(canary).items():
        for column, plain in columns.items():
            values = [str(v) for v in select(table, column)]
            assert len(values) == 2, (table, column, values)  # the form's and the API's record
            for value in values:
                assert value == plain or CIPHERTEXT.match(value), (table, column, value[:80])


def plant(agency_pk: Any, canary: Canary) -> None:
    """Write one canary string into a plain column, so that the raw scan must find it."""
    from wellcheck.accounts.models import Agency

    Agency.objects.filter(pk=agency_pk).update(name=f"Planted {canary.family}")


# --- (a) the SQLite database file, written by a separate process ------------------------------

SCRIPT = r"""
import json, os, sys
import django
django.setup()
from django.test.utils import setup_test_environment
setup_test_environment()  # template rendering reports its context, as in the test process
from django.conf import settings
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
sys.path.insert(0, os.environ["CANARY_TESTS_DIR"])
import test_policy_canary as t
from django.db import connection
from wellcheck.accounts.models import RecordPolicy
from wellcheck.testing.personas import make_world
from wellcheck.people.models import Person

canary = t.Canary(tag=os.environ["CANARY_TAG"])
consent = os.environ["CANARY_CONSENT"] == "1"
handler, levels = t.capture_all_logs()
world = make_world(policy=RecordPolicy.CONSENT_ONLY, slug="canarypd")
seen = t.record_everywhere(world, canary, consent=consent)
t.release_logs(handler, levels)
people = [(p.given_name, p.family_name, str(p.date_of_birth)) for p in Person.objects.all()]
if consent:
    t.plant(world.agency.pk, canary)
print(json.dumps({
    "logs": handler.text(), "errors": seen["errors"], "people": people,
    "modes": sorted(set(world.agency.checks.values_list("record_mode", flat=True))),
}))
connection.close()
"""


@pytest.fixture(scope="module")
def migrated_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with a migrated SQLite database, made once and copied per test."""
    data = tmp_path_factory.mktemp("canary_template")
    run_in(data, [sys.executable, str(REPO / "manage.py"), "migrate", "--noinput"])
    return data


def run_in(data: Path, cmd: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("WELLCHECK_")}
    full_env.update(
        WELLCHECK_DATA_DIR=str(data),
        DJANGO_SETTINGS_MODULE="wellcheck.settings",
        WELLCHECK_MFA_REQUIRED="0",  # signing in with a second factor is not what is tested here
        PYTHONPATH=str(REPO),
        CANARY_TESTS_DIR=str(Path(__file__).parent),
        **env,
    )
    done = subprocess.run(
        cmd, cwd=REPO, env=full_env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done


def sqlite_files(data: Path) -> bytes:
    files = sorted(data.glob("*.sqlite3*"))
    assert any(f.name.endswith(".sqlite3") for f in files), list(data.iterdir())
    return b"".join(f.read_bytes() for f in files)


@pytest.mark.slow
@pytest.mark.parametrize("consent", [False, True], ids=["no_consent", "with_consent"])
def test_sqlite_file_bytes(migrated_data_dir: Path, tmp_path: Path, consent: bool) -> None:
    data = tmp_path / "data"
    shutil.copytree(migrated_data_dir, data)
    canary = Canary()
    done = run_in(
        data,
        [sys.executable, "-c", SCRIPT],
        CANARY_TAG=canary.tag,
        CANARY_CONSENT="1" if consent else "0",
    )
    out = json.loads(done.stdout.strip().splitlines()[-1])
    raw = sqlite_files(data)
    assert "INSERT INTO" in out["logs"]
    assert found_in(out["logs"] + done.stderr, canary) == [] or consent
    for error in out["errors"]:
        assert found_in(error, canary) == []
    db = sqlite3.connect(data / "wellcheck.sqlite3")
    try:
        audit = "\n".join(repr(r) for r in db.execute("SELECT * FROM audit_auditevent"))
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        db.close()
    assert "check.created" in audit or "check.tallied" in audit
    assert found_in(audit, canary) == []
    if consent:
        assert out["modes"] == ["identified"]
        assert {tuple(p) for p in out["people"]} == {
            (canary.given, canary.family, canary.dob.isoformat())
        }
        db = sqlite3.connect(data / "wellcheck.sqlite3")
        try:
            assert_stored(
                canary,
                lambda table, column: [
                    r[0]
                    for r in db.execute(f'SELECT "{column}" FROM "{table}"')  # noqa: S608
                ],
            )
        finally:
            db.close()
        assert "family name" in found_in(raw, canary)  # planted: the byte scan can fail
    else:
        assert out["modes"] == ["tally"] and out["people"] == []
        assert b"check.tallied" in raw  # the bytes scanned hold the rows this run wrote
        assert found_in(raw, canary) == [], "identity in the SQLite database file"


def test_the_scanner_finds_every_rendering() -> None:
    canary = Canary(tag="0badc0de")
    assert found_in(b"nothing here", canary) == []
    blob = (
        f"x{canary.family.upper()}y".encode()
        + canary.narrative.encode("utf-16-le")
        + canary.dob.strftime("%m/%d/%Y").encode()
    )
    hits = set(found_in(blob, canary))
    assert {"family name", "birth date (US)", "narrative"} <= hits
    assert not hits & {"given name", "address", "incident number", "birth date (ISO)"}
