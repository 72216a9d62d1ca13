"""The envelope and the encrypted fields: plain values in Python, bound ciphertext in the database,
and loud failures (naming the key) for a missing or wrong key."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection, transaction

from wellcheck.checks.models import CheckDetail
from wellcheck.crypto import decrypt_for, encrypt_for, envelope, keyring
from wellcheck.crypto.errors import (
    KeyMissing,
    NotCiphertext,
    PlaintextWriteRefused,
    WrongKey,
)
from wellcheck.crypto.models import DataKey
from wellcheck.crypto.providers import EnvKeyProvider, get_provider, set_provider
from wellcheck.crypto.testing import record_check
from wellcheck.people.models import Person
from wellcheck.testing.personas import World


def raw(table: str, column: str, pk_column: str, pk: object) -> str:
    with connection.cursor() as cur:
        cur.execute(f"SELECT {column} FROM {table} WHERE {pk_column} = %s", [pk])  # noqa: S608
        return cur.fetchone()[0]


def pk_param(pk: uuid.UUID) -> object:
    return pk.hex if connection.vendor == "sqlite" else pk


def test_values_are_plain_in_python_and_ciphertext_in_the_database(world: World) -> None:
    check, detail, person = record_check(world, given="Ada", family="Lovelace")
    fresh = Person.objects.get(pk=person.pk)
    assert fresh.given_name == "Ada" and fresh.family_name == "Lovelace"
    assert fresh.date_of_birth == dt.date(1980, 5, 17)
    stored = raw("people_person", "given_name", "id", pk_param(person.pk))
    assert stored.startswith("wc1:") and "Ada" not in stored
    dek = stored.split(":")[1]
    assert DataKey.objects.get(pk=dek).scope == f"person:{person.pk}"
    d = CheckDetail.objects.get(pk=check.pk)
    assert d.address == "100 BLOCK MAIN ST" and d.narrative == "Found safe at home."
    narrative = raw("checks_checkdetail", "narrative", "check_record_id", pk_param(check.pk))
    assert narrative.startswith("wc1:") and "safe" not in narrative


def test_decimal_and_list_values_round_trip(world: World) -> None:
    check, detail, person = record_check(world)
    detail.latitude = Decimal("43.038900")
    detail.longitude = Decimal("-87.906500")
    detail.save()
    person.aliases = ["Jack", "J. S."]
    person.save()
    d = CheckDetail.objects.get(pk=check.pk)
    assert d.latitude == Decimal("43.038900") and d.longitude == Decimal("-87.906500")
    assert Person.objects.get(pk=person.pk).aliases == ["Jack", "J. S."]


def test_a_value_moved_to_another_row_does_not_decrypt(world: World) -> None:
    _, _, first = record_check(world, given="Alpha", minutes_ago=90)
    _, _, second = record_check(world, given="Beta", minutes_ago=80)
    stolen = raw("people_person", "given_name", "id", pk_param(first.pk))
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE people_person SET given_name = %s WHERE id = %s", [stolen, pk_param(second.pk)]
        )
    victim = Person.objects.get(pk=second.pk)
    with pytest.raises(WrongKey, match="people.person.given_name of row"):
        _ = victim.given_name
    # and to another field of the same row
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE people_person SET family_name = %s WHERE id = %s", [stolen, pk_param(first.pk)]
        )
    with pytest.raises(WrongKey):
        _ = Person.objects.get(pk=first.pk).family_name


def test_plaintext_in_an_encrypted_column_fails_loudly(world: World) -> None:
    _, _, person = record_check(world)
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE people_person SET given_name = 'Mallory' WHERE id = %s", [pk_param(person.pk)]
        )
    with pytest.raises(NotCiphertext, match="not WellCheck ciphertext"):
        _ = Person.objects.get(pk=person.pk).given_name


def test_update_and_filter_with_plaintext_are_refused(world: World) -> None:
    _, _, person = record_check(world)
    with (
        pytest.raises(PlaintextWriteRefused, match="people.person.given_name"),
        transaction.atomic(),
    ):
        Person.objects.filter(pk=person.pk).update(given_name="Eve")
    with pytest.raises(PlaintextWriteRefused), transaction.atomic():
        list(Person.objects.filter(given_name="John"))
    assert Person.objects.get(pk=person.pk).given_name == "John"


def test_encrypt_for_matches_what_the_orm_reads(world: World) -> None:
    check, _, _ = record_check(world)
    cell = encrypt_for("checks.checkdetail", str(check.pk), "narrative", "Imported narrative")
    assert cell.startswith("wc1:")
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE checks_checkdetail SET narrative = %s, person_id = NULL"
            " WHERE check_record_id = %s",
            [cell, pk_param(check.pk)],
        )
    assert CheckDetail.objects.get(pk=check.pk).narrative == "Imported narrative"
    assert decrypt_for("checks.checkdetail", check.pk, "narrative", cell) == "Imported narrative"
    assert encrypt_for("checks.checkdetail", check.pk, "narrative", "") == ""
    with pytest.raises(ValueError, match="not an encrypted field"):
        encrypt_for("checks.checkdetail", check.pk, "address_key", "x")


def test_missing_key_file_names_the_key(world: World, key_dir: Path) -> None:
    _, _, person = record_check(world)
    kek_id = get_provider().current_kek_id()
    path = key_dir / f"{kek_id}.key"
    saved = path.read_bytes()
    path.unlink()
    keyring.reset_caches()
    try:
        with pytest.raises(KeyMissing, match=kek_id):
            _ = Person.objects.get(pk=person.pk).given_name
    finally:
        path.write_bytes(saved)
        keyring.reset_caches()
    assert Person.objects.get(pk=person.pk).given_name == "John"


def test_wrong_key_raises_and_never_returns_garbage(world: World) -> None:
    _, _, person = record_check(world)
    kek_id = get_provider().current_kek_id()
    wrong = EnvKeyProvider(
        {
            "WELLCHECK_KEKS": f"{kek_id}:{base64.b64encode(b'x' * 32).decode()}",
            "WELLCHECK_INDEX_KEY": base64.b64encode(b"y" * 32).decode(),
        }
    )
    set_provider(wrong)
    keyring.reset_caches()
    try:
        with pytest.raises(WrongKey, match=f"does not open with key-encryption key {kek_id}"):
            _ = Person.objects.get(pk=person.pk).family_name
    finally:
        set_provider(None)
        keyring.reset_caches()


def test_envelope_rejects_a_relabelled_key_id(world: World) -> None:
    a = keyring.current_key_id("global")
    b = keyring.new_active_key("global")
    cell = envelope.encrypt("x", model_label="t.m", pk=1, field="f", dek_id=a)
    forged = cell.replace(f":{a}:", f":{b}:")
    with pytest.raises(WrongKey):
        envelope.decrypt(forged, model_label="t.m", pk=1, field="f")
    assert envelope.decrypt(cell, model_label="t.m", pk=1, field="f") == "x"


def test_a_key_created_in_a_rolled_back_transaction_is_never_used(world: World) -> None:
    scope = "test:rollback"
    with contextlib.suppress(RuntimeError), transaction.atomic():
        keyring.current_key_id(scope)
        raise RuntimeError("roll back")
    assert not DataKey.objects.filter(scope=scope).exists()
    dek = keyring.current_key_id(scope)
    assert DataKey.objects.filter(pk=dek, scope=scope).exists()
