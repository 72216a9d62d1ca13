"""Upgrading a database whose identifying columns still hold plaintext: the data migrations
encrypt every value in place, bound to its row, and fill the blind indexes; nothing is lost."""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal
from types import SimpleNamespace

from django.db import connection

from wellcheck.checks.models import CheckDetail
from wellcheck.crypto.testing import record_check
from wellcheck.people.models import Person
from wellcheck.people.selectors import person_search
from wellcheck.testing.personas import World


def pk_param(pk: object) -> object:
    return pk.hex if connection.vendor == "sqlite" else pk  # type: ignore[attr-defined]


def test_data_migrations_encrypt_existing_plaintext(world: World) -> None:
    check, _, person = record_check(world)
    with connection.cursor() as cur:  # what a database before the encryption migrations held
        cur.execute(
            "UPDATE people_person SET given_name = %s, family_name = %s, date_of_birth = %s,"
            " aliases = %s, name_key = '', name_phonetic_key = '', family_phonetic_key = ''"
            " WHERE id = %s",
            ["Grace", "Hopper", "1906-12-09", '["Amazing Grace"]', pk_param(person.pk)],
        )
        cur.execute(
            "UPDATE checks_checkdetail SET narrative = %s, address = %s, latitude = %s,"
            " incident_number = %s WHERE check_record_id = %s",
            ["Old plaintext narrative", "1 OLD ST", "43.038900", "E1", pk_param(check.pk)],
        )
    people = importlib.import_module("wellcheck.people.migrations.0002_encrypt_person")
    checks = importlib.import_module("wellcheck.checks.migrations.0004_encrypt_detail")
    editor = SimpleNamespace(connection=connection)  # the data steps use only its connection
    people.encrypt_existing(None, editor)
    checks.encrypt_existing(None, editor)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT given_name, aliases FROM people_person WHERE id = %s", [pk_param(person.pk)]
        )
        given, aliases = cur.fetchone()
        cur.execute(
            "SELECT narrative, latitude FROM checks_checkdetail WHERE check_record_id = %s",
            [pk_param(check.pk)],
        )
        narrative, latitude = cur.fetchone()
    assert all(str(v).startswith("wc1:") for v in (given, aliases, narrative, latitude))
    p = Person.objects.get(pk=person.pk)
    assert (p.given_name, p.family_name, p.date_of_birth, p.aliases) == (
        "Grace",
        "Hopper",
        dt.date(1906, 12, 9),
        ["Amazing Grace"],
    )
    d = CheckDetail.objects.get(pk=check.pk)
    assert (d.narrative, d.address, d.latitude, d.incident_number) == (
        "Old plaintext narrative",
        "1 OLD ST",
        Decimal("43.038900"),
        "E1",
    )
    found = person_search(actor=world.officer_a, name="Grayce Hoppar")
    assert [m.person.pk for m in found] == [person.pk]
    # running it again changes nothing (already ciphertext)
    people.encrypt_existing(None, editor)
    assert Person.objects.get(pk=person.pk).family_name == "Hopper"
