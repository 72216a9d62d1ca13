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
import hmac
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache

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


@lru_cache(maxsize=1)
def _digest_key() -> bytes:
    return hashlib.sha256(b"intake-digest|" + _key("import_key")).digest()


@lru_cache(maxsize=1)
def _import_hmac() -> hmac.HMAC:
    return hmac.new(_key("import_key"), digestmod=hashlib.sha256)


def import_key(value: str) -> str:
    """Same value as ``keyed_index(value, key_name="import_key")``, without re-keying each time."""
    h = _import_hmac().copy()
    h.update(value.encode())
    return h.hexdigest()


class RowParser:
    """Parses rows of one file under one profile. Keeps only the occurrence counts of keyless
    rows (hashes), so memory stays flat for files with incident numbers."""

    def __init__(self, profile: Profile, header: Header, *, tally: bool) -> None:
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
        digest = hashlib.blake2b(
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
            ).encode(),
            key=_digest_key(),
            digest_size=16,
        ).hexdigest()
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
