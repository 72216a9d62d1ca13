"""Key rotation while the application is in use, and the status report.

``rotate``:

1. (``kek=True``) a new key-encryption key becomes current; every live data key is re-wrapped
   under it in batches (small rows: fast even for a million persons).
2. (``data_keys``) new active data keys for the chosen scopes (``global``, or ``all`` = also each
   person's); the old ones are *retired*: they still decrypt.
3. A sweep re-encrypts, in batches of locked rows, every value whose key is not the active key of
   its row's scope. Writers keep working: a row saved during the sweep is written under the
   active key already, and a row the sweep has not reached is still readable under its old key.

``retire_keks`` destroys key-encryption keys that no live data key needs any more (never the
current one). After it, backups whose data keys were wrapped only by a destroyed KEK are
unreadable: that is what makes crypto-shredding reach into old backups.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models, transaction

from wellcheck.crypto import envelope, keyring
from wellcheck.crypto.fields import Ciphertext, EncryptedMixin, Sealed, encrypted_fields
from wellcheck.crypto.models import DataKey, DataKeyState
from wellcheck.crypto.providers import get_provider
from wellcheck.crypto.scopes import GLOBAL, scope_of


@dataclass
class RotationReport:
    new_kek: str = ""
    rewrapped: int = 0
    new_data_keys: int = 0
    values_reencrypted: int = 0
    kek_destroyed: list[str] = field(default_factory=list)


def encrypted_models() -> list[type[models.Model]]:
    return [
        m
        for m in apps.get_models()
        if any(isinstance(f, EncryptedMixin) for f in m._meta.concrete_fields)
    ]


def _reencrypt_batch(model: type[models.Model], after: object, batch: int) -> tuple[int, object]:
    fields = encrypted_fields(model)
    with transaction.atomic():
        qs = model._base_manager.select_for_update().order_by("pk")
        if after is not None:
            qs = qs.filter(pk__gt=after)
        rows = list(qs[:batch])
        if not rows:
            return 0, None
        ids: set[str] = set()
        for row in rows:
            for f in fields:
                value = row.__dict__.get(f.attname)
                if isinstance(value, Sealed):
                    ids.add(value.key_id)
        keyring.prefetch(ids)
        changed = 0
        for row in rows:
            target = keyring.current_key_id(scope_of(row))
            updates = {}
            for f in fields:
                value = row.__dict__.get(f.attname)
                if isinstance(value, Sealed) and value.key_id != target:
                    plain = f.open(row, value)
                    updates[f.attname] = Ciphertext(
                        envelope.encrypt(
                            f.to_text(plain),
                            model_label=row._meta.label_lower,
                            pk=row.pk,
                            field=f.name,
                            dek_id=target,
                        )
                    )
            if updates:
                model._base_manager.filter(pk=row.pk).update(**updates)
                changed += 1
        return changed, rows[-1].pk


def reencrypt_sweep(*, batch: int = 500, pause: float = 0.0) -> int:
    """Re-encrypt every value not under its scope's active key. Returns rows changed."""
    total = 0
    for model in encrypted_models():
        after: object = None
        while True:
            changed, after = _reencrypt_batch(model, after, batch)
            total += changed
            if after is None:
                break
            if pause:
                time.sleep(pause)
    return total


def rotate(*, kek: bool = True, data_keys: str = GLOBAL, batch: int = 500) -> RotationReport:
    """Rotate keys as described in the module docstring. ``data_keys``: global, all or none."""
    if data_keys not in {GLOBAL, "all", "none"}:
        raise ValueError("data_keys must be 'global', 'all' or 'none'.")
    report = RotationReport()
    if kek:
        report.new_kek = get_provider().new_kek()
        keyring.reset_caches()
        report.rewrapped = keyring.rewrap_all(kek_id=report.new_kek, batch=batch * 4)
    if data_keys != "none":
        scopes = [GLOBAL]
        if data_keys == "all":
            scopes = list(
                DataKey.objects.filter(state=DataKeyState.ACTIVE)
                .values_list("scope", flat=True)
                .distinct()
            ) or [GLOBAL]
        for scope in scopes:
            keyring.new_active_key(scope)
            report.new_data_keys += 1
        report.values_reencrypted = reencrypt_sweep(batch=batch)
        # Writers in other processes may have used a key they cached just before the switch
        # (at most keyring.CURRENT_SECONDS ago): sweep once more after that time.
        time.sleep(keyring.CURRENT_SECONDS)
        report.values_reencrypted += reencrypt_sweep(batch=batch)
    return report


def retire_keks() -> list[str]:
    """Destroy KEKs that no live data key is wrapped by (never the current one)."""
    provider = get_provider()
    current = provider.current_kek_id()
    in_use = set(
        DataKey.objects.exclude(state=DataKeyState.DESTROYED).values_list("kek_id", flat=True)
    )
    destroyed = []
    for kek_id in provider.kek_ids():
        if kek_id != current and kek_id not in in_use:
            provider.destroy_kek(kek_id)
            destroyed.append(kek_id)
    keyring.reset_caches()
    return destroyed


def status() -> dict[str, object]:
    """What keys exist and what uses them (no key material, no plaintext)."""
    provider = get_provider()
    by_state: dict[str, int] = {}
    by_kek: dict[str, int] = {}
    for state, kek_id in DataKey.objects.values_list("state", "kek_id"):
        by_state[state] = by_state.get(state, 0) + 1
        if state != DataKeyState.DESTROYED:
            by_kek[kek_id] = by_kek.get(kek_id, 0) + 1
    states = dict(DataKey.objects.values_list("id", "state"))
    values: dict[str, int] = {}
    for model in encrypted_models():
        names = [f.attname for f in encrypted_fields(model)]
        for row in model._base_manager.values_list(*names).iterator(chunk_size=2000):
            for value in row:
                if isinstance(value, Sealed):
                    state = states.get(value.key_id, "missing")
                    values[state] = values.get(state, 0) + 1
    return {
        "current_kek": provider.current_kek_id(),
        "keks": provider.kek_ids(),
        "data_keys_by_state": by_state,
        "live_data_keys_by_kek": by_kek,
        "values_by_key_state": values,
    }


def roll_kek_after_shred() -> RotationReport:
    """After data keys were destroyed: a new KEK wraps every live data key and the old KEKs are
    destroyed, so the destroyed keys' wrapped copies in older backups cannot be unwrapped."""
    report = rotate(kek=True, data_keys="none")
    report.kek_destroyed = retire_keks()
    return report
