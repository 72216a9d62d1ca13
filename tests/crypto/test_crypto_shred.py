"""Crypto-shredding: after a person is erased, their canary values cannot be recovered even from a
database dump taken before the erasure, with every key that remains. The same recovery procedure
finds them before the erasure (so the attempt is real)."""

from __future__ import annotations

import base64
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import connection

from wellcheck.audit.models import AuditEvent
from wellcheck.checks.models import RecordMode, WellnessCheck
from wellcheck.crypto import keyring
from wellcheck.crypto.models import DataKey
from wellcheck.crypto.providers import get_provider
from wellcheck.crypto.testing import Canary, pg_dump_bytes, record_check
from wellcheck.people.services import person_erase
from wellcheck.testing.personas import make_world

TOKEN = re.compile(rb"wc1:(dk[0-9a-f]+):([A-Za-z0-9+/=]+)")


@dataclass
class Dump:
    ciphertexts: list[tuple[str, bytes]]  # (data key id, nonce+ct+tag)
    wrapped: dict[str, tuple[str, str, str]]  # dek id -> (scope, kek id, wrapped)


def take_dump(tmp_path: Path, name: str) -> Dump:
    if connection.vendor == "postgresql":
        raw = pg_dump_bytes()
        wrapped = {}
        block = raw.split(b"COPY public.crypto_datakey ", 1)[1].split(b"\n\\.\n", 1)[0]
        header, *lines = block.split(b"\n")
        cols = header.split(b"(", 1)[1].split(b")", 1)[0].decode().split(", ")
        for line in lines:
            row = dict(zip(cols, line.decode().split("\t"), strict=True))
            wrapped[row["id"]] = (row["scope"], row["kek_id"], row["wrapped"])
    else:
        target = tmp_path / f"{name}.sqlite3"
        with connection.cursor() as cur:
            cur.execute("VACUUM INTO %s", [str(target)])
        raw = target.read_bytes()
        db = sqlite3.connect(target)
        wrapped = {
            r[0]: (r[1], r[2], r[3])
            for r in db.execute("SELECT id, scope, kek_id, wrapped FROM crypto_datakey")
        }
        db.close()
    cts = []
    # split at each "wc1:" so that a value directly followed by another (SQLite records) is cut
    for piece in raw.split(b"wc1:")[1:]:
        m = TOKEN.match(b"wc1:" + piece)
        if m is None:
            continue
        text = m.group(2)
        text = text[: text.index(b"=") + text.count(b"=")] if b"=" in text else text
        text = text[: len(text) - len(text) % 4]
        cts.append((m.group(1).decode(), base64.b64decode(text)))
    return Dump(ciphertexts=cts, wrapped=wrapped)


def gcm_keystream_decrypt(key: bytes, blob: bytes) -> bytes:
    """Decrypt GCM ciphertext as CTR, ignoring the tag and the associated data (the strongest
    attacker: anyone holding the data key reads the value, whatever row it claims to be)."""
    nonce, body = blob[:12], blob[12:]  # the tag (and any bytes after) decrypt to junk at the end
    dec = Cipher(algorithms.AES(key), modes.CTR(nonce + b"\x00\x00\x00\x02")).decryptor()
    return dec.update(body) + dec.finalize()


def candidate_keys(dump: Dump) -> list[bytes]:
    """Every data key an attacker can get: unwrapped from the dump with every KEK that still
    exists, plus every data key live in the database now."""
    provider = get_provider()
    keks = [provider.kek(k) for k in provider.kek_ids()]
    keys = []
    for dek_id, (scope, _kek_id, wrapped) in dump.wrapped.items():
        if not wrapped:
            continue
        blob = base64.b64decode(wrapped)
        for kek in keks:
            try:
                aad = f"wellcheck-dek:{dek_id}:{scope}".encode()
                keys.append(AESGCM(kek).decrypt(blob[:12], blob[12:], aad))
            except InvalidTag:
                continue
    keyring.reset_caches()
    for row in DataKey.objects.exclude(wrapped=""):
        keys.append(keyring.unwrap_row(row))
    return keys


def recovered(dump: Dump, canary: Canary) -> set[str]:
    found = set()
    keys = candidate_keys(dump)
    for _dek, blob in dump.ciphertexts:
        for key in keys:
            plain = gcm_keystream_decrypt(key, blob)
            for name, needle in canary.needles().items():
                if needle in plain:
                    found.add(name)
    return found


@pytest.mark.django_db(transaction=True)
def test_erased_person_cannot_be_recovered_from_an_earlier_dump(tmp_path: Path) -> None:
    canary = Canary()
    world = make_world()
    check, _, person = record_check(
        world,
        given=canary.given,
        family=canary.family,
        birth=canary.birth,
        address=canary.address,
        narrative=canary.narrative,
    )
    other, _, _ = record_check(world, given="Other", family="Person", minutes_ago=30)
    before = take_dump(tmp_path, "before")
    # the recovery procedure works while the key exists
    assert recovered(before, canary) == set(canary.needles())
    old_keks = get_provider().kek_ids()

    assert person_erase(actor=world.records, person=person, reason="Court-ordered erasure") == 1

    assert WellnessCheck.objects.get(pk=check.pk).record_mode == RecordMode.TALLY
    assert not set(old_keks) & set(get_provider().kek_ids())  # old KEKs destroyed
    assert recovered(before, canary) == set()
    assert recovered(take_dump(tmp_path, "after"), canary) == set()
    # the other person's record is untouched and readable
    keyring.reset_caches()
    assert WellnessCheck.objects.get(pk=other.pk).detail.person.family_name == "Person"
    event = AuditEvent.objects.get(event_type="person.erased")
    assert event.details == {"checks_kept_as_tallies": 1, "data_keys_destroyed": 1}
    assert event.target_id == str(person.pk) and canary.family not in str(event.details)
