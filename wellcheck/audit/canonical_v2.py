"""Canonical bytes of an audit event, format version 2: what PostgreSQL builds, byte for byte.

Version 1 (``canonical.py``) is a JSON array with Python's sorted keys; PostgreSQL cannot build
it cheaply, so verification had to fetch and re-serialise every row in Python. Version 2 holds
the same fields in the same order, in a form that one cheap SQL expression
(``wellcheck_audit_canonical_v2(...)``, migration 0004: ``concat_ws`` over the columns, no
escaping, no per-character work) and this module build identically:

* the elements joined by ``;``: the version ``2``, then each field of ``canonical.FIELDS_V1``;
* ``seq`` and ``actor_id`` in decimal; ``~`` for a missing value;
* the time as 16 lowercase hex digits: the signed 64-bit count of microseconds since
  2000-01-01 00:00 UTC, big-endian (PostgreSQL's own timestamp, ``timestamptz_send``);
* the agency as the UUID's lowercase text;
* every text field as two elements, its UTF-8 length in bytes and its bytes (a missing text is
  the single element ``-1``): length-prefixed, so a ``;`` inside a value is harmless;
* the three JSON columns as PostgreSQL prints a ``jsonb`` value (``jsonb::text``: object keys
  ordered by byte length, then bytes; ``", "`` and ``": "`` separators; JSON string escapes),
  each a complete JSON value, so it ends where its text ends;
* UTF-8, no normalisation at hashing time: the stored text is hashed as stored (strings are
  NFC-normalised when written, as in version 1).

``row_hash = SHA-256(prev_hash bytes || canonical bytes)`` as in version 1; the version number
comes first, so changing an event's ``canon_version`` changes what is hashed. A property test
(``tests/audit/test_canonical_v2.py``) holds the SQL function and this module to the same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from wellcheck.audit.canonical import VERSION as VERSION_1
from wellcheck.audit.canonical import CanonicalError, canonical_bytes, json_value

VERSION_2 = 2

_quote = json.encoder.encode_basestring  # the C quoting of ensure_ascii=False
_loads = json.loads
_UTC = dt.UTC


_PG_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


def _as_datetime(value: dt.datetime | str) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T", 1))
    if value.tzinfo is None:  # SQLite hands back naive UTC
        value = value.replace(tzinfo=_UTC)
    return value


def time_hex(value: dt.datetime | str | None) -> str:
    """Microseconds since 2000-01-01 UTC as 16 hex digits (``~`` when missing)."""
    if value is None:
        return "~"
    micros = (_as_datetime(value) - _PG_EPOCH) // _MICROSECOND
    return micros.to_bytes(8, "big", signed=True).hex()


def time_text(value: dt.datetime | str | None) -> str | None:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC with a four-digit year (for people, not hashed)."""
    if value is None:
        return None
    value = _as_datetime(value).astimezone(_UTC)
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:"
        f"{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}Z"
    )


def _key(name: str) -> tuple[int, bytes]:
    raw = name.encode("utf-8")
    return len(raw), raw


def jsonb_text(value: Any) -> str:
    """``value::jsonb::text`` as PostgreSQL prints it (no floats: they are stored as text)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    kind = value.__class__
    if kind is str:
        return _quote(value)
    if kind is int:
        return int.__repr__(value)
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        items = sorted(((str(k), v) for k, v in value.items()), key=lambda kv: _key(kv[0]))
        return "{" + ", ".join(f"{_quote(k)}: {jsonb_text(v)}" for k, v in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(jsonb_text(v) for v in value) + "]"
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, int):
        return int.__repr__(int(value))
    raise CanonicalError(f"audit event cannot be serialised canonically: {type(value).__name__}")


_TRIVIAL = {"[]": "[]", "{}": "{}"}


def _json_column(value: Any) -> str:
    """A JSON column as the database returned it (text on SQLite, parsed on PostgreSQL)."""
    if isinstance(value, str | bytes):
        trivial = _TRIVIAL.get(value) if isinstance(value, str) else None
        if trivial is not None:
            return trivial
        value = _loads(value)
    return jsonb_text(value)


def _json_or_missing(value: Any) -> str:
    return "~" if value is None else _json_column(value)


def _text(parts: list[str], value: Any) -> None:
    """A text field: its UTF-8 length and its bytes, two elements (``-1`` alone when missing)."""
    if value is None:
        parts.append("-1")
        return
    if value.__class__ is not str:
        raise CanonicalError(f"audit event text field is {type(value).__name__}, not str")
    parts.append(str(len(value) if value.isascii() else len(value.encode("utf-8"))))
    parts.append(value)


def _integer(value: Any) -> str:
    if value is None:
        return "~"
    if isinstance(value, int) and not isinstance(value, bool):
        return int.__repr__(int(value))
    raise CanonicalError(f"audit event number field is {type(value).__name__}, not int")


def _uuid(value: Any) -> str:
    if value is None:
        return "~"
    text = value if isinstance(value, str) and len(value) == 36 else str(uuid.UUID(str(value)))
    return text.lower()


def canonical_bytes_v2(values: Sequence[Any]) -> bytes:
    """Version 2 bytes of one event; ``values`` follow ``canonical.FIELDS_V1``.

    Times may be datetimes or text, the agency a UUID or its text, the JSON columns parsed or as
    the database returned them (text).
    """
    (
        seq,
        occurred_at,
        component,
        event_type,
        category,
        actor_id,
        actor_name,
        agency_id,
        outcome,
        request_id,
        client_ip,
        target_type,
        target_id,
        reason,
        recipients,
        changes,
        details,
    ) = values
    try:
        parts = ["2", _integer(seq), time_hex(occurred_at)]
        _text(parts, component)
        _text(parts, event_type)
        _text(parts, category)
        parts.append(_integer(actor_id))
        _text(parts, actor_name)
        parts.append(_uuid(agency_id))
        for value in (outcome, request_id, client_ip, target_type, target_id, reason):
            _text(parts, value)
        parts.append(_json_or_missing(recipients))
        parts.append(_json_or_missing(changes))
        parts.append(_json_or_missing(details))
        return ";".join(parts).encode("utf-8")
    except (TypeError, ValueError, OverflowError) as exc:
        raise CanonicalError(f"audit event cannot be serialised canonically: {exc}") from exc


def versioned_bytes(version: int, values: Sequence[Any]) -> bytes:
    """The canonical bytes of an event in its own version (values as in ``canonical.FIELDS_V1``:
    times as canonical text, JSON columns parsed or as text)."""
    if version == VERSION_2:
        return canonical_bytes_v2(values)
    if version == VERSION_1:
        return canonical_bytes([*values[:14], *(json_value(v) for v in values[14:17])])
    raise CanonicalError(f"unknown canonical version {version}")
