"""One CSV row to one typed call, or a rejection with its reason. Pure: no database access.

Repairs (a row is imported, with a warning): coordinates outside the profile's bounds or
unparseable are dropped; a row without an incident number gets a stable key derived from its time,
call type and address (plus its occurrence number among identical rows of the file); an over-long
call type or beat is cut; a row without a call type is counted as another call. Rejections (the
row goes to the reject file): no parseable time, fields that do not line up with the header.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from wellcheck.core.blind import _key, normalise_address
from wellcheck.intake.models import CallCategory
from wellcheck.intake.profiles import Profile
from wellcheck.intake.reader import Header, RawRow

UTC = dt.UTC
MAX_CODE = 40
NO_CALL_TYPE = "(none)"
WELFARE: str = CallCategory.WELFARE_CHECK.value
MENTAL: str = CallCategory.MENTAL_HEALTH.value
OTHER: str = CallCategory.OTHER.value
_ISO = {"%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f"}


@dataclass(slots=True)
class Call:
    line: int
    source_key: str
    digest: str
    category: str
    call_type: str
    unit_code: str
    day: dt.date
    received_at: dt.datetime
    outcome: str | None
    incident_number: str = ""
    address: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def is_check(self) -> bool:
        return self.category != OTHER


@dataclass(slots=True)
class Rejected:
    line: int
    reason: str
    values: list[str]


_HOUR = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}")
_MIN_SEC = frozenset(f":{m:02d}:{sec:02d}" for m in range(60) for sec in range(60))
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
HOUR_CACHE_LIMIT = 100_000


def copy_text(value: str) -> str:
    """A value as a field of PostgreSQL's COPY text format (backslash escapes)."""
    return value.translate(_COPY_ESCAPES)


@dataclass(slots=True)
class FastOthers:
    """The "other" calls of a batch that needed no repair, as staging lines for PostgreSQL's
    COPY (``source_key, digest, call_type, unit_code, day, mark_day``: see
    :meth:`RowParser.parse_other`), each the first occurrence of its key in the batch. ``rows``
    keeps the raw rows, so a call the database finds changed is parsed again in full
    (:meth:`RowParser.parse` gives the same values).
    """

    keys: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    rows: list[RawRow] = field(default_factory=list)
    parser: RowParser | None = None  # not the producing parser's instance (another thread)

    def __len__(self) -> int:
        return len(self.keys)

    def calls(self, keys: set[str] | None = None) -> list[Call]:
        """The full parse of the rows (of those ``keys`` only, if given), in file order."""
        assert self.parser is not None
        out = []
        for key, row in zip(self.keys, self.rows, strict=True):
            if keys is None or key in keys:
                call = self.parser.parse(row)
                assert isinstance(call, Call)  # parse_other accepted it: parse does too
                out.append(call)
        return out


@lru_cache(maxsize=1)
def _digest_key() -> bytes:
    return hashlib.sha256(b"intake-digest|" + _key("import_key")).digest()


@lru_cache(maxsize=1)
def _digest_state() -> Any:
    """The keyed BLAKE2b state after the key block; ``copy()`` is cheaper than re-keying."""
    return hashlib.blake2b(key=_digest_key(), digest_size=16)


def value_digest(text: str) -> str:
    """Keyed digest of what a call stores (``blake2b(text, key=_digest_key(), digest_size=16)``)."""
    h = _digest_state().copy()
    h.update(text.encode())
    return h.hexdigest()


@lru_cache(maxsize=1)
def _import_pads() -> tuple[Any, Any]:
    """HMAC-SHA256 (RFC 2104) inner and outer states after their key blocks."""
    key = _key("import_key")
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    return inner, outer


def ledger_key(source_key: str) -> str:
    """The ledger's key of a call: the first 128 bits (32 hex digits, a uuid) of its source key.
    Half the size of the whole HMAC in the ledger's unique index; 128 bits keep collisions out of
    reach (birthday bound 2^64 calls)."""
    return source_key[:32]


def import_key(value: str) -> str:
    """Same value as ``keyed_index(value, key_name="import_key")`` (HMAC-SHA256, hex), from the
    precomputed pad states: two hash copies instead of ``hmac`` re-keying (tested equal)."""
    inner, outer = _import_pads()
    h = inner.copy()
    h.update(value.encode())
    o = outer.copy()
    o.update(h.digest())
    return o.hexdigest()


class RowParser:
    """Parses rows of one file under one profile. Keeps only the occurrence counts of keyless
    rows (hashes), so memory stays flat for files with incident numbers."""

    def __init__(
        self,
        profile: Profile,
        header: Header,
        *,
        tally: bool,
        mark_zone: dt.tzinfo | None = None,
    ) -> None:
        self.p = profile
        self.pos = header.positions
        self.width = header.width
        self.tally = tally
        self.tz = zoneinfo.ZoneInfo(profile.time_zone)
        self.fast_iso = all(f in _ISO for f in profile.time_formats)
        self._need = max(self.pos[f] for f in profile.required) + 1
        self._derived_seen: dict[str, int] = {}
        self._has_coords = "latitude" in self.pos and "longitude" in self.pos
        absent = 1 << 30  # an index no row reaches: the column is not in this file
        self._idx = tuple(
            self.pos.get(name, absent)
            for name in ("received_at", "call_type", "unit", "incident_number", "disposition")
        )
        # parse_other's caches: local hour -> (UTC hour, local day, day in mark_zone) or None
        # when that hour is not one offset of whole hours; call type / beat -> COPY text or None.
        self.mark_zone = mark_zone
        self._hours: dict[str, tuple[str, str, str] | None] = {}
        self._types: dict[str, str | None] = {}
        self._units: dict[str, tuple[str, str] | None] = {}
        self._key_prefix = f"{profile.key_namespace}|"

    def _get(self, values: list[str], name: str) -> str:
        i = self.pos.get(name)
        if i is None or i >= len(values):
            return ""
        return values[i].strip()

    def _time(self, text: str) -> dt.datetime | None:
        if not text:
            return None
        if self.fast_iso and len(text) >= 16:
            try:
                return dt.datetime.fromisoformat(text)
            except ValueError:
                pass
        for fmt in self.p.time_formats:
            try:
                return dt.datetime.strptime(text, fmt)  # noqa: DTZ007 (zone added by the caller)
            except ValueError:
                continue
        return None

    def address(self, values: list[str]) -> str:
        p = self.p
        street = " ".join(x for x in (self._get(values, n) for n in p.address_street) if x)
        for suffix in p.address_strip_suffixes:
            if street.upper().endswith(suffix.upper()):
                street = street[: -len(suffix)].rstrip()
        cross = " ".join(x for x in (self._get(values, n) for n in p.address_cross) if x)
        number = self._get(values, p.address_number) if p.address_number else ""
        if cross:
            return f"{street} / {cross}" if street else cross
        if number and number != "0":
            return f"{number} {street}".strip()
        return street

    def _coords(self, values: list[str], warnings: list[str]) -> tuple[Decimal | None, ...]:
        if not self._has_coords:
            return None, None
        lat_s, lon_s = self._get(values, "latitude"), self._get(values, "longitude")
        if not lat_s and not lon_s:
            return None, None
        try:
            lat, lon = float(lat_s), float(lon_s)
        except ValueError:
            warnings.append("coordinates not numbers; dropped")
            return None, None
        if self.p.bounds is not None and not self.p.bounds.contains(lat, lon):
            warnings.append("coordinates outside the profile's bounds; dropped")
            return None, None
        try:
            return (
                Decimal(lat_s).quantize(Decimal("0.000001")),
                Decimal(lon_s).quantize(Decimal("0.000001")),
            )
        except InvalidOperation:
            warnings.append("coordinates not numbers; dropped")
            return None, None

    def parse(self, row: RawRow) -> Call | Rejected:
        values = row.values
        if row.error:
            return Rejected(row.line, row.error, values)
        if len(values) > self.width and any(v.strip() for v in values[self.width :]):
            return Rejected(
                row.line,
                f"row has {len(values)} fields but the header has {self.width} (unknown columns)",
                values,
            )
        if len(values) < self._need:
            return Rejected(
                row.line, f"row has {len(values)} fields but the header has {self.width}", values
            )
        p = self.p
        n = len(values)
        i_time, i_type, i_unit, i_inc, i_dispo = self._idx
        time_text = values[i_time].strip() if i_time < n else ""
        local = self._time(time_text)
        if local is None:
            return Rejected(
                row.line,
                f"no parseable time in {p.columns['received_at'][0]!r} "
                f"(expected {' or '.join(p.time_formats)})",
                values,
            )
        if local.tzinfo is None:
            local = local.replace(tzinfo=self.tz)
        call_type = values[i_type].strip() if i_type < n else ""
        warnings: list[str] = []
        if not call_type:
            call_type = NO_CALL_TYPE
            warnings.append("no call type; counted as another call")
        if len(call_type) > MAX_CODE:
            call_type = call_type[:MAX_CODE]
            warnings.append("call type longer than 40 characters; cut")
        upper = call_type.upper()
        if upper in p.welfare_types:
            category = WELFARE
        elif upper in p.mental_health_types:
            category = MENTAL
        else:
            category = OTHER
        unit = values[i_unit].strip() if i_unit < n else ""
        if unit.upper() in p.unit_missing:
            unit = p.unit_fallback
        if len(unit) > MAX_CODE:
            unit = unit[:MAX_CODE]
            warnings.append("beat longer than 40 characters; cut")
        lat, lon = self._coords(values, warnings)
        incident = values[i_inc].strip() if i_inc < n else ""
        address = ""
        if category is not OTHER or not incident:
            address = self.address(values)
        if incident:
            key = import_key(f"{p.key_namespace}|{incident}")
        else:
            key = self._derived_key(values, local, call_type, address)
            warnings.append("no incident number; key derived from time, call type and address")
        received = local.astimezone(UTC)
        outcome = p.outcomes.get(values[i_dispo].strip().upper()) if i_dispo < n else None
        if self.tally:
            received = received.replace(minute=0, second=0, microsecond=0)
            incident, address, lat, lon = "", "", None, None
        if category is OTHER:
            incident, address, lat, lon = "", "", None, None
        digest = value_digest(
            "\x1f".join(
                (
                    category,
                    call_type,
                    unit,
                    received.isoformat(),
                    outcome or "",
                    incident,
                    address,
                    str(lat),
                    str(lon),
                )
            )
        )
        return Call(
            line=row.line,
            source_key=key,
            digest=digest,
            category=category,
            call_type=call_type,
            unit_code=unit,
            day=local.date(),
            received_at=received,
            outcome=outcome,
            incident_number=incident[:MAX_CODE],
            address=address[:300],
            latitude=lat,
            longitude=lon,
            warnings=warnings,
        )

    def parse_other(self, row: RawRow) -> tuple[str, str] | None:
        """(ledger key, COPY staging line) for an "other" call that needs no repair and no
        warning, with exactly the key, digest, call type, beat and local day :meth:`parse` gives
        it; None for every other row (a check, a warning, a rejection, an unusual time), which
        then takes :meth:`parse`. The line's last field is the call's local day in ``mark_zone``
        (the agency's zone, for the analytics' dirty days)."""
        values = row.values
        n = len(values)
        if row.error or n < self._need:
            return None
        if n > self.width and any(v.strip() for v in values[self.width :]):
            return None
        i_time, i_type, i_unit, i_inc, i_dispo = self._idx
        text = values[i_time].strip()
        if len(text) != 19 or not self.fast_iso:
            return None
        tail = text[13:]
        if tail not in _MIN_SEC:
            return None
        prefix = text[:13]
        hour = self._hours.get(prefix, False)
        if hour is False:
            hour = self._hour(prefix)
        if hour is None:
            return None
        call_type = values[i_type].strip()
        ctype = self._types.get(call_type, False)
        if ctype is False:
            ctype = self._type_text(call_type)
        if ctype is None:
            return None
        unit = values[i_unit].strip() if i_unit < n else ""
        unit_texts = self._units.get(unit, False)
        if unit_texts is False:
            unit_texts = self._unit_text(unit)
        if unit_texts is None:
            return None
        unit_code, utext = unit_texts
        if self._has_coords:
            warnings: list[str] = []
            self._coords(values, warnings)
            if warnings:
                return None
        incident = values[i_inc].strip() if i_inc < n else ""
        if not incident:
            return None
        outcome = self.p.outcomes.get(values[i_dispo].strip().upper(), "") if i_dispo < n else ""
        utc_hour, day, mark_day = hour
        received = f"{utc_hour}:00:00+00:00" if self.tally else f"{utc_hour}{tail}+00:00"
        digest = value_digest(
            f"{OTHER}\x1f{call_type}\x1f{unit_code}\x1f{received}\x1f{outcome}\x1f\x1f\x1fNone\x1fNone"
        )
        key = import_key(self._key_prefix + incident)[:32]  # ledger_key()
        return key, f"{key}\t{digest}\t{ctype}\t{utext}\t{day}\t{mark_day}\n"

    def _hour(self, prefix: str) -> tuple[str, str, str] | None:
        """Cache entry for a local hour ``YYYY-MM-DD HH`` (see parse_other)."""
        entry = None
        if _HOUR.fullmatch(prefix):
            try:
                start = dt.datetime.fromisoformat(f"{prefix}:00:00").replace(tzinfo=self.tz)
            except ValueError:
                start = None
            if start is not None:
                end = start.replace(minute=59, second=59)
                offset = start.utcoffset()
                if offset == end.utcoffset() and offset is not None and not offset.seconds % 3600:
                    utc = start.astimezone(UTC)
                    mark = utc.astimezone(self.mark_zone or self.tz)
                    mark_end = end.astimezone(UTC).astimezone(self.mark_zone or self.tz)
                    mark_offset = mark.utcoffset()
                    if (
                        mark_offset == mark_end.utcoffset()
                        and mark_offset is not None
                        and not mark_offset.seconds % 3600
                    ):
                        entry = (
                            utc.isoformat()[:13],
                            start.date().isoformat(),
                            mark.date().isoformat(),
                        )
        if len(self._hours) >= HOUR_CACHE_LIMIT:
            self._hours.clear()
        self._hours[prefix] = entry
        return entry

    def _type_text(self, call_type: str) -> str | None:
        """COPY text of an "other" call type that needs no repair; None otherwise."""
        upper = call_type.upper()
        ok = (
            call_type
            and len(call_type) <= MAX_CODE
            and upper not in self.p.welfare_types
            and upper not in self.p.mental_health_types
        )
        text = copy_text(call_type) if ok else None
        if len(self._types) < HOUR_CACHE_LIMIT:
            self._types[call_type] = text
        return text

    def _unit_text(self, unit: str) -> tuple[str, str] | None:
        """(beat code, its COPY text) for a beat that needs no repair; None otherwise."""
        code = self.p.unit_fallback if unit.upper() in self.p.unit_missing else unit
        texts = (code, copy_text(code)) if len(code) <= MAX_CODE else None
        if len(self._units) < HOUR_CACHE_LIMIT:
            self._units[unit] = texts
        return texts

    def _derived_key(
        self, values: list[str], local: dt.datetime, call_type: str, address: str
    ) -> str:
        parts = []
        for name in self.p.key_fallback:
            if name == "received_at":
                parts.append(local.replace(tzinfo=None).isoformat())
            elif name == "address":
                parts.append(normalise_address(address))
            elif name == "call_type":
                parts.append(call_type.upper())
            else:
                parts.append(self._get(values, name).upper())
        base = import_key(f"{self.p.key_namespace}|derived|{'|'.join(parts)}")
        n = self._derived_seen.get(base, 0) + 1
        self._derived_seen[base] = n
        if n == 1:
            return base
        return import_key(f"{base}|{n}")
