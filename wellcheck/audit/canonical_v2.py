"""Canonical bytes of an audit event, format version 2: what PostgreSQL prints, byte for byte.

Version 1 (``canonical.py``) is a JSON array with Python's sorted keys; PostgreSQL cannot build
it cheaply, so verification had to fetch and re-serialise every row in Python. Version 2 is the
same fields in the same order, written so that one SQL expression
(``wellcheck_audit_canonical_v2(...)``, migration 0004) and this module give identical bytes:

* a JSON array ``[2,seq,time,component,...,recipients,changes,details]``, top-level separators
  ``,`` without spaces;
* strings quoted as JSON (``"`` ``\\`` and control characters escaped, ``\\b \\f \\n \\r \\t``
  by name, others as ``\\u00xx``; everything else as is: PostgreSQL's ``to_json(text)`` and
  Python's ``json`` with ``ensure_ascii=False`` escape exactly the same characters);
* integers in decimal, ``null`` for a missing value;
* the time in UTC with microseconds and a four-digit year (``2026-01-02T03:04:05.000006Z``);
* the three JSON columns as PostgreSQL prints a ``jsonb`` value (``jsonb::text``): object keys
  ordered by byte length, then bytes; ``", "`` and ``": "`` separators;
* UTF-8, with no normalisation at hashing time: the stored text is hashed as stored (strings are
  NFC-normalised when written, as in version 1).

``row_hash = SHA-256(prev_hash bytes || canonical bytes)`` as in version 1; the version number
is the first element, so changing an event's ``canon_version`` changes its bytes. A property test
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


def time_text(value: dt.datetime | str | None) -> str | None:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC (four-digit year, as ``to_char`` writes it).

    A naive value (SQLite) is already UTC; text is parsed first (``fromisoformat``).
    """
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T", 1))
    if value.tzinfo is not None:
        value = value.astimezone(_UTC)
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


def _text(value: Any) -> str:
    if value is None:
        return "null"
    if value.__class__ is str:
        return _quote(value)
    raise CanonicalError(f"audit event text field is {type(value).__name__}, not str")


def _integer(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, int) and not isinstance(value, bool):
        return int.__repr__(int(value))
    raise CanonicalError(f"audit event number field is {type(value).__name__}, not int")


def _uuid(value: Any) -> str:
    if value is None:
        return "null"
    text = value if isinstance(value, str) and len(value) == 36 else str(uuid.UUID(str(value)))
    return f'"{text.lower()}"'


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
        when = time_text(occurred_at)
        text = ",".join(
            (
                "[2",
                _integer(seq),
                "null" if when is None else f'"{when}"',
                _text(component),
                _text(event_type),
                _text(category),
                _integer(actor_id),
                _text(actor_name),
                _uuid(agency_id),
                _text(outcome),
                _text(request_id),
                _text(client_ip),
                _text(target_type),
                _text(target_id),
                _text(reason),
                _json_column(recipients),
                _json_column(changes),
                _json_column(details),
            )
        )
        return (text + "]").encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise CanonicalError(f"audit event cannot be serialised canonically: {exc}") from exc


def versioned_bytes(version: int, values: Sequence[Any]) -> bytes:
    """The canonical bytes of an event in its own version (values as in ``canonical.FIELDS_V1``:
    times as canonical text, JSON columns parsed or as text)."""
    if version == VERSION_2:
        return canonical_bytes_v2(values)
    if version == VERSION_1:
        return canonical_bytes([*values[:14], *(json_value(v) for v in values[14:17])])
    raise CanonicalError(f"unknown canonical version {version}")
