"""Data keys: create, unwrap (cached), retire, destroy, and rewrap under a new KEK.

Unwrapped keys are cached in process memory for a short time (``CACHE_SECONDS``) so that a page
of rows does not unwrap its key per value; a destroyed key stops working in this process at once
and in other processes within that time. Errors name the key id and what to do.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.db.models import Model, TextField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from wellcheck.crypto.errors import KeyDestroyed, KeyMissing, WrongKey
from wellcheck.crypto.models import DataKey, DataKeyState
from wellcheck.crypto.providers import get_provider

CACHE_SECONDS = 60.0
CURRENT_SECONDS = 2.0
_lock = threading.Lock()
_keys: dict[str, tuple[float, bytes]] = {}
_current: dict[str, tuple[float, str]] = {}


def reset_caches() -> None:
    """Forget every unwrapped key (tests, and after a key is destroyed or rotated)."""
    with _lock:
        _keys.clear()
        _aeads.clear()
        _current.clear()
        _kek_aeads.clear()
        _prune_at[0] = PRUNE_ABOVE


_kek_aeads: dict[bytes, AESGCM] = {}


def _kek_aead(kek_id: str) -> AESGCM:
    """AES-GCM over the KEK ``kek_id``: the provider is asked every time (a missing key still
    fails at once); only the cipher object built from the bytes it returns is reused."""
    kek = get_provider().kek(kek_id)
    obj = _kek_aeads.get(kek)
    if obj is None:
        obj = AESGCM(kek)
        with _lock:
            if len(_kek_aeads) > 64:  # KEKs are few; never let a churn of test keys pile up
                _kek_aeads.clear()
            _kek_aeads[kek] = obj
    return obj


def _wrap_aad(dek_id: str, scope: str) -> bytes:
    return f"wellcheck-dek:{dek_id}:{scope}".encode()


def wrap(dek_id: str, scope: str, key: bytes, kek_id: str) -> str:
    nonce = secrets.token_bytes(12)
    sealed = _kek_aead(kek_id).encrypt(nonce, key, _wrap_aad(dek_id, scope))
    return base64.b64encode(nonce + sealed).decode()


def unwrap_row(row: DataKey) -> bytes:
    return _unwrap(row.id, row.scope, row.state, row.kek_id, row.wrapped)


def _unwrap(dek_id: str, scope: str, state: str, kek_id: str, wrapped: str) -> bytes:
    if state == DataKeyState.DESTROYED or not wrapped:
        raise KeyDestroyed(f"Data key {dek_id} ({scope.split(':')[0]}) was destroyed.")
    return _open(_kek_aead(kek_id), dek_id, scope, kek_id, wrapped)


def _open(aes: AESGCM, dek_id: str, scope: str, kek_id: str, wrapped: str) -> bytes:
    blob = base64.b64decode(wrapped)
    try:
        return aes.decrypt(blob[:12], blob[12:], _wrap_aad(dek_id, scope))
    except InvalidTag as exc:
        raise WrongKey(
            f"Data key {dek_id} does not open with key-encryption key {kek_id}: the key file "
            "or environment value for that id is not the one that wrapped it."
        ) from exc


PRUNE_ABOVE = 5000
_prune_at = [PRUNE_ABOVE]  # next size that triggers a prune (grows while keys are still live)


def _remember(dek_id: str, key: bytes) -> bytes:
    now = time.monotonic()
    with _lock:
        if len(_keys) > _prune_at[0]:
            _prune(now)
        _keys[dek_id] = (now + CACHE_SECONDS, key)
    return key


def _prune(now: float) -> None:
    """Forget expired keys (caller holds the lock): with one key per person, a process that
    searches many persons would otherwise keep every key it ever unwrapped. The next prune waits
    until the cache has doubled, so a burst of live keys does not rescan it on every insert."""
    for cache in (_keys, _aeads):
        for dek_id in [k for k, (until, _) in cache.items() if until <= now]:
            del cache[dek_id]
    _prune_at[0] = max(PRUNE_ABOVE, 2 * len(_keys))


_aeads: dict[str, tuple[float, AESGCM]] = {}


def aead(dek_id: str) -> AESGCM:
    """An AES-256-GCM object for data key ``dek_id`` (cached like the key itself)."""
    hit = _aeads.get(dek_id)
    now = time.monotonic()
    if hit and hit[0] > now:
        return hit[1]
    obj = AESGCM(key_bytes(dek_id))
    _aeads[dek_id] = (now + CACHE_SECONDS, obj)
    return obj


def key_bytes(dek_id: str) -> bytes:
    """The unwrapped data key ``dek_id``; raises a clear error if it is missing or destroyed."""
    hit = _keys.get(dek_id)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    row = DataKey.objects.filter(pk=dek_id).first()
    if row is None:
        raise KeyMissing(f"Data key {dek_id} is not in the key table (crypto_datakey).")
    return _remember(dek_id, unwrap_row(row))


def prefetch(dek_ids: Iterable[str]) -> None:
    """Unwrap many keys with one query (lists and search results)."""
    now = time.monotonic()
    wanted = {d for d in dek_ids if not (d in _keys and _keys[d][0] > now)}
    if not wanted:
        return
    for row in DataKey.objects.filter(pk__in=wanted).exclude(state=DataKeyState.DESTROYED):
        _remember(row.id, unwrap_row(row))


def key_column(model: type[Model], *columns: str) -> RawSQL:
    """An annotation on ``model``: the live data key of the first non-empty ciphertext among
    ``columns``, so that listing rows brings their wrapped keys in the same query (no second
    round trip to unwrap them). Hand the values to :func:`remember_rows`.

    The value is ``"<id> <scope> <wrapped> <kek id>"`` (only the KEK id, last, may hold spaces),
    or NULL when the key is missing or destroyed. Raw SQL because the same subquery built from
    ORM expressions costs about a millisecond of Python per query to resolve and compile.
    """
    conn = connections[DEFAULT_DB_ALIAS]
    q = conn.ops.quote_name
    table = q(model._meta.db_table)
    names = {f.name: str(f.column) for f in model._meta.concrete_fields}
    cols = ", ".join(f"NULLIF({table}.{q(names[c])}, '')" for c in columns)
    text = f"COALESCE({cols})"
    # The key id is what sits between the first and second colon of "wc1:<key id>:<body>".
    if conn.vendor == "postgresql":
        dek_id = f"split_part({text}, ':', 2)"
    else:
        body = f"substr({text}, 5)"
        dek_id = f"substr({body}, 1, max(instr({body}, ':') - 1, 0))"
    keys = q(DataKey._meta.db_table)
    # Only quoted names from the models' meta are formatted in; the one value is a parameter.
    row = "k.id || ' ' || k.scope || ' ' || k.wrapped || ' ' || k.kek_id"
    sql = f"SELECT {row} FROM {keys} k WHERE k.id = {dek_id} AND k.state <> %s"  # noqa: S608
    return RawSQL(sql, (DataKeyState.DESTROYED.value,), output_field=TextField())  # noqa: S611


def remember_rows(rows: Iterable[str | None]) -> None:
    """Unwrap (under their KEKs) and cache the data keys from :func:`key_column` values. Missing
    ones are skipped: reading a value fetches its key, or fails loudly, as usual."""
    now = time.monotonic()
    keks: dict[str, AESGCM] = {}
    opened: list[tuple[str, bytes]] = []
    for row in rows:
        if not row:
            continue
        dek_id, scope, wrapped, kek_id = row.split(" ", 3)
        hit = _keys.get(dek_id)
        if (hit and hit[0] > now) or not wrapped:
            continue
        aes = keks.get(kek_id)
        if aes is None:
            aes = keks[kek_id] = _kek_aead(kek_id)
        opened.append((dek_id, _open(aes, dek_id, scope, kek_id, wrapped)))
    if opened:
        with _lock:
            if len(_keys) > _prune_at[0]:
                _prune(now)
            for dek_id, key in opened:
                _keys[dek_id] = (now + CACHE_SECONDS, key)


def _create(scope: str) -> DataKey:
    dek_id = "dk" + secrets.token_hex(7)
    key = secrets.token_bytes(32)
    kek_id = get_provider().current_kek_id()
    row = DataKey(
        id=dek_id,
        scope=scope,
        kek_id=kek_id,
        wrapped=wrap(dek_id, scope, key, kek_id),
        created_at=timezone.now(),
    )
    with transaction.atomic():
        row.save(force_insert=True)
    _remember(dek_id, key)
    return row


def current_key_id(scope: str) -> str:
    """The active data key of ``scope``, created on first use."""
    pending = _pending_key(scope)
    if pending is not None:
        return pending
    hit = _current.get(scope)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    row = DataKey.objects.filter(scope=scope, state=DataKeyState.ACTIVE).first()
    if row is None:
        try:
            row = _create(scope)
        except IntegrityError:  # another process created it at the same moment
            row = DataKey.objects.get(scope=scope, state=DataKeyState.ACTIVE)
    _cache_current_after_commit(scope, row.id)
    return row.id


def _cache_current_after_commit(scope: str, dek_id: str) -> None:
    """Remember the active key for everyone only once it is committed: a key created (or seen)
    inside a transaction that rolls back must never be used for later writes. Until then it is
    remembered for the current transaction only (see ``_pending_key``)."""

    def remember() -> None:
        with _lock:
            _current[scope] = (time.monotonic() + CURRENT_SECONDS, dek_id)

    conn = connections[DEFAULT_DB_ALIAS]
    if conn.in_atomic_block:
        pending = conn.__dict__.setdefault("_wellcheck_pending_keys", {})
        pending[scope] = (conn.run_on_commit, tuple(conn.savepoint_ids), dek_id)
    transaction.on_commit(remember)


def _pending_key(scope: str) -> str | None:
    """The key remembered in this transaction, while that transaction (and the savepoint it was
    seen in) is still open. Django replaces ``run_on_commit`` with a new list on commit, rollback
    and savepoint rollback, so holding the list and comparing identity detects all three."""
    conn = connections[DEFAULT_DB_ALIAS]
    if not conn.in_atomic_block:
        return None
    hit = conn.__dict__.get("_wellcheck_pending_keys", {}).get(scope)
    if hit is None:
        return None
    hooks, savepoints, dek_id = hit
    if hooks is not conn.run_on_commit:
        return None
    if savepoints and tuple(conn.savepoint_ids[: len(savepoints)]) != savepoints:
        return None
    return str(dek_id)


def new_active_key(scope: str) -> str:
    """Retire the scope's active key (it still decrypts) and make a new one active."""
    with transaction.atomic():
        DataKey.objects.select_for_update().filter(scope=scope, state=DataKeyState.ACTIVE).update(
            state=DataKeyState.RETIRED, retired_at=timezone.now()
        )
        row = _create(scope)
    with _lock:
        _current.pop(scope, None)
    _cache_current_after_commit(scope, row.id)
    return row.id


def destroy_scope(scope: str) -> int:
    """Destroy every data key of ``scope`` (crypto-shredding). Returns the number destroyed."""
    ids = list(
        DataKey.objects.filter(scope=scope)
        .exclude(state=DataKeyState.DESTROYED)
        .values_list("id", flat=True)
    )
    DataKey.objects.filter(pk__in=ids).update(
        state=DataKeyState.DESTROYED, wrapped="", destroyed_at=timezone.now()
    )
    with _lock:
        for dek_id in ids:
            _keys.pop(dek_id, None)
            _aeads.pop(dek_id, None)
        _current.pop(scope, None)
    return len(ids)


def rewrap_all(*, kek_id: str, batch: int = 2000) -> int:
    """Re-wrap every live data key not yet under ``kek_id``, in batches. Returns keys rewrapped."""
    done = 0
    while True:
        with transaction.atomic():
            rows = list(
                DataKey.objects.select_for_update()
                .exclude(state=DataKeyState.DESTROYED)
                .exclude(kek_id=kek_id)
                .order_by("pk")[:batch]
            )
            if not rows:
                return done
            for row in rows:
                key = unwrap_row(row)
                row.wrapped = wrap(row.id, row.scope, key, kek_id)
                row.kek_id = kek_id
            DataKey.objects.bulk_update(rows, ["wrapped", "kek_id"])
            done += len(rows)
