"""Test helpers: identified checks with canary values, and a scan for plaintext in raw bytes."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest  # test-only module: never imported by the running app
from django.db import connection

from wellcheck.accounts.models import User
from wellcheck.checks.inputs import CheckInput, ConsentInput, PersonInput
from wellcheck.checks.models import CheckDetail, WellnessCheck
from wellcheck.checks.services import check_create
from wellcheck.people.models import Person
from wellcheck.testing.personas import World, recent


@dataclass(frozen=True)
class Canary:
    """Values no real record contains, so finding one in raw bytes means a plaintext leak."""

    given: str = "Quillonia"
    family: str = "Zarrathwick"
    birth: dt.date = dt.date(1937, 11, 23)
    address: str = "4471 CANARYWHARF XYZZY LANE"
    narrative: str = "Narrative-canary: plover wakes the lighthouse keeper"

    def needles(self) -> dict[str, bytes]:
        return {
            "given name": self.given.encode(),
            "family name": self.family.encode(),
            "birth date": self.birth.isoformat().encode(),
            "address": self.address.encode(),
            "narrative": self.narrative.encode(),
        }


def record_check(
    world: World,
    *,
    actor: User | None = None,
    given: str = "John",
    family: str = "Smith",
    birth: dt.date | None = dt.date(1980, 5, 17),
    address: str = "100 BLOCK MAIN ST",
    narrative: str = "Found safe at home.",
    unit_id: int | None = None,
    consent: bool = False,
    minutes_ago: int = 60,
) -> tuple[WellnessCheck, CheckDetail, Person]:
    """Record an identified check through the service, as an officer would."""
    data = CheckInput(
        unit_id=unit_id or world.unit_a.pk,
        received_at=recent(minutes_ago),
        incident_number=f"E{minutes_ago:09d}",
        address=address,
        narrative=narrative,
        triage_rationale="Concern for welfare reported by family.",
        person=PersonInput(given_name=given, family_name=family, date_of_birth=birth),
        consent=ConsentInput() if consent else None,
    )
    check = check_create(actor=actor or world.officer_a, data=data)
    detail = CheckDetail.objects.select_related("person").get(pk=check.pk)
    assert detail.person is not None
    return check, detail, detail.person


def find_needles(blob: bytes, needles: dict[str, bytes]) -> list[str]:
    """Names of the needles found in ``blob`` (also as UTF-16, the other common encoding)."""
    found = []
    for name, needle in needles.items():
        if needle in blob or needle.decode().encode("utf-16-le") in blob:
            found.append(name)
    return found


def pg_dump_bytes() -> bytes:
    """A plain-text pg_dump of the database the default connection uses (tests' database)."""
    conf = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": conf.get("PASSWORD") or ""}
    cmd = [
        shutil.which("pg_dump") or "pg_dump",
        "-h",
        conf.get("HOST") or "127.0.0.1",
        "-p",
        str(conf.get("PORT") or 5432),
        "-U",
        conf.get("USER") or "postgres",
        "--no-owner",
        conf["NAME"],
    ]
    return subprocess.run(cmd, check=True, capture_output=True, env=env, timeout=120).stdout  # noqa: S603


# --- pytest fixtures: a fresh key set per test session (imported by the test folders' conftests)


@pytest.fixture(scope="session", autouse=True)
def _session_keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Key files in a temporary directory for the whole session; caches reset around it."""
    from django.conf import settings

    key_dir = tmp_path_factory.mktemp("keys")
    old = settings.WELLCHECK_KEY_DIR
    settings.WELLCHECK_KEY_DIR = key_dir
    reset_key_caches()
    yield key_dir
    settings.WELLCHECK_KEY_DIR = old
    reset_key_caches()


def reset_key_caches() -> None:
    from wellcheck.crypto import blind, keyring, providers

    providers.set_provider(None)
    keyring.reset_caches()
    blind.reset_caches()


@pytest.fixture
def key_dir(_session_keys: Path) -> Path:
    return _session_keys
