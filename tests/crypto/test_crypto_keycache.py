"""What the key caches may and may not remember: a KEK file read by its identity (a replaced or
removed file is seen at once), and unwrapped data keys that expire and are pruned."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

import pytest

from wellcheck.crypto import keyring
from wellcheck.crypto.errors import KeyMissing, WrongKey
from wellcheck.crypto.providers import FileKeyProvider
from wellcheck.crypto.testing import record_check
from wellcheck.people.models import Person
from wellcheck.testing.personas import World


def test_file_provider_sees_a_replaced_or_removed_key_file(tmp_path: Path) -> None:
    provider = FileKeyProvider(tmp_path)
    kek_id = provider.current_kek_id()
    first = provider.kek(kek_id)
    assert provider.kek(kek_id) == first
    path = tmp_path / f"{kek_id}.key"
    replacement = secrets.token_bytes(32)
    tmp = tmp_path / "new.tmp"
    tmp.write_text(base64.b64encode(replacement).decode())
    os.replace(tmp, path)  # a new file in place of the old one
    assert provider.kek(kek_id) == replacement
    path.unlink()
    with pytest.raises(KeyMissing, match=kek_id):
        provider.kek(kek_id)


def test_a_replaced_kek_file_fails_loudly_instead_of_using_the_old_key(
    world: World, key_dir: Path
) -> None:
    _, _, person = record_check(world)
    kek_id = keyring.DataKey.objects.get(scope=f"person:{person.pk}").kek_id
    path = key_dir / f"{kek_id}.key"
    saved = path.read_bytes()
    assert Person.objects.get(pk=person.pk).given_name == "John"
    tmp = key_dir / "swap.tmp"
    tmp.write_text(base64.b64encode(b"w" * 32).decode())
    os.replace(tmp, path)
    keyring.reset_caches()  # forget the unwrapped data key, not the provider's file cache
    try:
        with pytest.raises(WrongKey, match=kek_id):
            _ = Person.objects.get(pk=person.pk).given_name
    finally:
        path.write_bytes(saved)
        keyring.reset_caches()
    assert Person.objects.get(pk=person.pk).given_name == "John"


def test_expired_data_keys_are_pruned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyring, "PRUNE_ABOVE", 3)
    keyring.reset_caches()
    clock = [1000.0]
    monkeypatch.setattr(keyring.time, "monotonic", lambda: clock[0])
    for i in range(4):
        keyring._remember(f"dkold{i}", b"k" * 32)
    clock[0] += keyring.CACHE_SECONDS + 1
    keyring._remember("dknew", b"n" * 32)
    assert set(keyring._keys) == {"dknew"}
    # live keys are kept, and the next scan waits until the cache has doubled
    for i in range(5):
        keyring._remember(f"dklive{i}", b"l" * 32)
    assert len(keyring._keys) == 6 and keyring._prune_at[0] >= 6
    keyring.reset_caches()
