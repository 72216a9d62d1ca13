"""Canonical bytes of an audit event and its chained hash (format version 1).

An event's hash must come out the same from PostgreSQL, from SQLite and from an archive file, so
it is computed over a fixed, versioned serialisation rather than over whatever a driver returns:

* a JSON array, fields in the fixed order of :data:`FIELDS_V1`, the version number first;
* nested objects with sorted keys, compact separators, non-ASCII characters kept as they are;
* the time in UTC with microseconds (``2026-01-02T03:04:05.000006Z``);
* ``null`` as the explicit marker of a missing actor, agency or time;
* the whole text in Unicode NFC, encoded as UTF-8.

``row_hash = SHA-256(prev_hash || canonical bytes)`` with ``prev_hash`` the 32 raw bytes of the
previous event's hash (:data:`GENESIS` for the first event). This module is frozen: a change of
format is a new version number, and events keep the version they were written with.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

VERSION = 1
GENESIS = "0" * 64

# The columns hashed, in order (``v`` is the event's ``canon_version``).
FIELDS_V1: tuple[str, ...] = (
    "seq",
    "occurred_at",
    "component",
    "event_type",
    "category",
    "actor_id",
    "actor_name",
    "agency_id",
    "outcome",
    "request_id",
    "client_ip",
    "target_type",
    "target_id",
    "reason",
    "recipients",
    "changes",
    "details",
)

_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
)
_UTC = dt.UTC


class CanonicalError(ValueError):
    """A value that cannot be hashed reproducibly (a float, NaN, an unknown type)."""


def utc_text(value: dt.datetime | str | None) -> str | None:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ``; a naive value (SQLite) is already UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(_UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def json_value(value: Any) -> Any:
    """A JSON column value as stored by the database (text on some drivers, parsed on others)."""
    if isinstance(value, str | bytes):
        return json.loads(value)
    return value


def clean_json(value: Any) -> Any:
    """The value made safe to hash: NFC strings, no floats (stored as text), str keys.

    Called when an event is written, so what is stored is exactly what is hashed.
    """
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Mapping):
        return {unicodedata.normalize("NFC", str(k)): clean_json(v) for k, v in value.items()}
    if isinstance(value, Sequence | set | frozenset):
        return [clean_json(v) for v in value]
    return unicodedata.normalize("NFC", str(value))


def canonical_bytes(values: Sequence[Any]) -> bytes:
    """Version 1 bytes of one event. ``values`` follow :data:`FIELDS_V1` (times as text)."""
    try:
        text = _ENCODER.encode([VERSION, *values])
    except (TypeError, ValueError) as exc:
        raise CanonicalError(f"audit event cannot be serialised canonically: {exc}") from exc
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text.encode("utf-8")


def chain_hash(prev_hash: str, canonical: bytes) -> str:
    """``SHA-256(prev_hash || canonical)`` as 64 hex digits."""
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical).hexdigest()


def row_values(row: Mapping[str, Any]) -> list[Any]:
    """The hashed values of an event given as a mapping of column names (model or DB row)."""
    out: list[Any] = []
    for name in FIELDS_V1:
        value = row[name]
        if name == "occurred_at":
            value = utc_text(value)
        elif name == "agency_id":
            value = str(uuid.UUID(str(value))) if value is not None else None
        elif name in ("recipients", "changes", "details"):
            value = json_value(value)
        out.append(value)
    return out


_TRIVIAL = frozenset({"[]", "{}"})
_quote = json.encoder.encode_basestring  # the C quoting of ensure_ascii=False
_loads = json.loads
_encode = _ENCODER.encode


def _fragment(value: Any) -> str:
    if isinstance(value, str):
        if value in _TRIVIAL:
            return value
        value = _loads(value)
    elif isinstance(value, bytes):
        value = _loads(value)
    return _encode(value)


def _scalar(value: Any) -> str:
    """JSON of a str, int or None exactly as the canonical encoder writes it."""
    kind = value.__class__
    if kind is str:
        return _quote(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    return _encode(value)  # anything else: the encoder decides (and refuses floats)


def canonical_bytes_from_db(values: Sequence[Any]) -> bytes:
    """Same bytes as :func:`canonical_bytes`, for rows whose last three values are JSON as the
    database returned them (text). Skips parsing the common empty ``[]``/``{}`` and quotes the
    scalar columns directly (verify speed); a test holds both functions to the same output."""
    try:
        head = ",".join(map(_scalar, values[:14]))
        text = (
            f"[{VERSION},{head},{_fragment(values[14])},{_fragment(values[15])},"
            f"{_fragment(values[16])}]"
        )
    except (TypeError, ValueError) as exc:
        raise CanonicalError(f"audit event cannot be serialised canonically: {exc}") from exc
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text.encode("utf-8")
