"""Planted canary values (name, birth date, address, narrative) appear nowhere in plaintext: not in
a pg_dump of the PostgreSQL database, not in the SQLite database file."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from wellcheck.checks.models import CheckDetail
from wellcheck.crypto.testing import Canary, find_needles, pg_dump_bytes, record_check
from wellcheck.people.models import Person
from wellcheck.testing.personas import make_world


def sqlite_file_bytes(tmp_path: Path) -> bytes:
    target = tmp_path / "copy.sqlite3"
    with connection.cursor() as cur:
        cur.execute("VACUUM INTO %s", [str(target)])
    data = target.read_bytes()
    for extra in (Path(str(connection.settings_dict["NAME"]) + "-wal"),):
        if extra.exists():
            data += extra.read_bytes()
    return data


def plant(canary: Canary) -> Person:
    world = make_world()
    _, detail, person = record_check(
        world,
        given=canary.given,
        family=canary.family,
        birth=canary.birth,
        address=canary.address,
        narrative=canary.narrative,
    )
    # the canary is really stored and readable through the ORM
    fresh = CheckDetail.objects.select_related("person").get(pk=detail.pk)
    assert fresh.narrative == canary.narrative and fresh.address == canary.address
    assert fresh.person is not None and fresh.person.family_name == canary.family
    return person


@pytest.mark.django_db(transaction=True)
def test_database_dump_holds_no_canary_in_plaintext(tmp_path: Path) -> None:
    canary = Canary()
    plant(canary)
    if connection.vendor == "postgresql":
        blob = pg_dump_bytes()
    elif connection.vendor == "sqlite":
        blob = sqlite_file_bytes(tmp_path)
    else:  # pragma: no cover
        pytest.skip(f"no dump for {connection.vendor}")
    # the scan works: a value stored in plaintext (the unit code) is found in the same dump
    assert find_needles(blob, {"unit name": b"District 1"}) == ["unit name"]
    assert len(blob) > 10_000
    assert find_needles(blob, canary.needles()) == []
