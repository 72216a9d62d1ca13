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
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from operator import attrgetter, itemgetter
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
Group = tuple[str, str, str, str]  # a count group: category, call type, beat, local day (ISO)


@dataclass(slots=True)
class Call:
    line: int
    source_key: str
    digest: str
    category: str
    call_type: str
    unit_code: str
    day: str  # local day (ISO), as in the call's count group
    received_at: dt.datetime
    outcome: str | None
    incident_number: str = ""
    address: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    warnings: list[str] = field(default_factory=list)
    page_key: bytes = b""  # the ledger's key, bucket and val (intake.ledger)
    bucket: int = 0
    val: bytes = b""
    mark_day: str | None = None  # local day (ISO) in the agency's zone: analytics' dirty days
    # A check's rows made ahead in the parsing process (intake.render), or empty: its id, its
    # COPY line without the unit column (known only to the writer) and its detail's COPY line.
    check_id: str = ""
    check_line: str = ""
    detail_line: str = ""

    @property
    def is_check(self) -> bool:
        return self.category != OTHER

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Pickled as its fields in order (the parsing process hands calls over): a quarter of
        # the cost of a slotted dataclass's own state dict, both ways.
        return Call, _call_fields(self)


_call_fields = attrgetter(*(f.name for f in fields(Call)))


@dataclass(slots=True)
class Rejected:
    line: int
    reason: str
    values: list[str]


_HOUR = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}")
_MIN_SEC = frozenset(f":{m:02d}:{sec:02d}" for m in range(60) for sec in range(60))
HOUR_CACHE_LIMIT = 100_000


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


@lru_cache(maxsize=1)
def _page_states() -> tuple[Any, Any]:
    """Keyed BLAKE2b-64 states for the ledger's entry keys (where AES does not fit: see
    :func:`entry_key`) and buckets (intake.ledger)."""
    base = _key("import_key")
    return tuple(  # type: ignore[return-value]
        hashlib.blake2b(key=hashlib.sha256(label + base).digest(), digest_size=8)
        for label in (b"intake-page-key|", b"intake-page-bucket|")
    )


def page_hash(kind: int, text: str) -> bytes:
    """kind 0: an entry key, 1: a bucket (see :func:`bucket_id`)."""
    h = _page_states()[kind].copy()
    h.update(text.encode())
    return h.digest()


def bucket_id(text: str) -> int:
    """A bucket as a non-negative 63-bit integer (a PostgreSQL bigint)."""
    return int.from_bytes(page_hash(1, text), "big") >> 1


SUFFIX_MAX = 7  # bytes of an incident number's suffix that fit an entry-key block
NO_VAL = bytes(8)  # an "other" call's entry val: its count group says all that matters


@lru_cache(maxsize=1)
def _entry_cipher() -> Any:
    """AES-256 (ECB: one block per key, no chaining) under a key derived from ``import_key``."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = hashlib.sha256(b"intake-page-entry|" + _key("import_key")).digest()
    return Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305 (see entry_block)


def entry_block(bucket: int, suffix: bytes) -> bytes:
    """The 16-byte block whose AES encryption (first 8 bytes) is a ledger entry's key: the
    bucket (which stands for the incident number without its suffix), the suffix padded with
    zeros, and the suffix's length. One block per call, all distinct: AES is a keyed permutation,
    so the keys are distinct and reveal nothing without the key. A whole batch is encrypted in
    one call (``intake.fastcsv``)."""
    return bucket.to_bytes(8, "big") + suffix.ljust(SUFFIX_MAX, b"\0") + bytes((len(suffix),))


def entry_key(prefix: str, incident: str, drop: int) -> tuple[bytes, int]:
    """A call's ledger entry key and bucket from its incident number (the same in every path):
    bucket = keyed hash of the number without its last ``drop`` characters; key = AES of
    (bucket, those characters) when they fit a block, else a keyed BLAKE2b of the number."""
    stem = incident[:-drop] if drop else incident
    bucket = bucket_id(prefix + stem)
    suffix = incident[len(stem) :].encode()
    if len(suffix) <= SUFFIX_MAX:
        return _entry_cipher().update(entry_block(bucket, suffix))[:8], bucket
    return page_hash(0, prefix + incident), bucket


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
        # fast()'s caches: local hour -> see _hour; raw call type / beat / disposition -> value.
        self.mark_zone = mark_zone
        self._hours: dict[str, tuple[str, str, str] | None] = {}
        self._types: dict[str, str | None] = {}
        self._units: dict[str, str | None] = {}
        self._buckets: dict[str, int] = {}
        self._key_prefix = f"{profile.key_namespace}|"
        self._drop = profile.key_bucket_drop
        # address(): column indexes of its parts (absent columns: an index no row reaches)
        self._street = tuple(self.pos.get(n, absent) for n in profile.address_street)
        self._cross = tuple(self.pos.get(n, absent) for n in profile.address_cross)
        self._number = (
            self.pos.get(profile.address_number, absent) if profile.address_number else absent
        )
        self._strip_suffixes = tuple(x.upper() for x in profile.address_strip_suffixes)
        # address()'s memo, keyed by the raw parts (a block address recurs: 66,835 check rows of
        # the benchmark's file have 15,740): its parts taken at C speed, when the row has them all.
        parts = [i for i in (*self._street, *self._cross, self._number) if i < absent]
        self._address_parts = itemgetter(*parts) if parts else None
        self._address_need = max(parts) + 1 if parts else 0
        self._addresses: dict[Any, str] = {}
        self._cipher = _entry_cipher()

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
        """The block address of a row (its street, cross street and number columns)."""
        get = self._address_parts
        if get is None or len(values) < self._address_need:
            return self._build_address(values)
        parts = get(values)
        address = self._addresses.get(parts)
        if address is None:
            if len(self._addresses) >= HOUR_CACHE_LIMIT:
                self._addresses.clear()
            address = self._addresses[parts] = self._build_address(values)
        return address

    def _build_address(self, values: list[str]) -> str:
        # Lists and filter(None, ...), not generator expressions: a fifth less time per row.
        n = len(values)
        street = " ".join(filter(None, [values[i].strip() for i in self._street if i < n]))
        for suffix in self._strip_suffixes:
            if street.upper().endswith(suffix):
                street = street[: -len(suffix)].rstrip()
        cross = " ".join(filter(None, [values[i].strip() for i in self._cross if i < n]))
        i = self._number
        number = values[i].strip() if i < n else ""
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
        number = incident  # the ledger's key is made of it (below, after the tally's cuts)
        if incident:
            key = import_key(f"{p.key_namespace}|{incident}")
        else:
            key = self._derived_key(values, local, call_type, address)
            warnings.append("no incident number; key derived from time, call type and address")
        received = local.astimezone(UTC)
        mark_day = received.astimezone(self.mark_zone or self.tz).date().isoformat()
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
        page_key, bucket, val = self._page_fields(number, key, local.date(), category, digest)
        return Call(
            line=row.line,
            source_key=key,
            digest=digest,
            category=category,
            call_type=call_type,
            unit_code=unit,
            day=local.date().isoformat(),  # text, as RowParser.fast gives it
            received_at=received,
            outcome=outcome,
            incident_number=incident[:MAX_CODE],
            address=address[:300],
            latitude=lat,
            longitude=lon,
            warnings=warnings,
            page_key=page_key,
            bucket=bucket,
            val=val,
            mark_day=mark_day,
        )

    def fast(self, values: list[str]) -> tuple[bytes, int, bytes, Group, str] | None:
        """The ledger entry of an "other" call that needs no repair and no warning: (key,
        bucket, val, count group, local day in ``mark_zone``), exactly as :meth:`parse` gives
        them; None for every other row (a check, a warning, a rejection, an unusual time), which
        then takes :meth:`parse`. Most rows of a file take this path: it touches no object but
        cached strings and two keyed hashes."""
        n = len(values)
        if n < self._need:
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
        hour = self._hours.get(text[:13], False)
        if hour is False:
            hour = self._hour(text[:13])
        if hour is None:
            return None
        raw = values[i_type]
        call_type = self._types.get(raw, False)
        if call_type is False:
            call_type = self._fast_type(raw)
        if call_type is None:
            return None
        raw = values[i_unit] if i_unit < n else ""
        unit = self._units.get(raw, False)
        if unit is False:
            unit = self._fast_unit(raw)
        if unit is None:
            return None
        if self._has_coords:
            warnings: list[str] = []
            self._coords(values, warnings)
            if warnings:
                return None
        incident = values[i_inc].strip() if i_inc < n else ""
        if not incident:
            return None
        day, mark_day, _ = hour
        key, bucket = self._entry_key(incident)
        return key, bucket, NO_VAL, (OTHER, call_type, unit, day), mark_day

    def _entry_key(self, incident: str) -> tuple[bytes, int]:
        drop = self._drop
        stem = incident[:-drop] if drop else incident
        bucket = self._buckets.get(stem)
        if bucket is None:
            bucket = self._bucket(stem)
        suffix = incident[len(stem) :].encode()
        if len(suffix) <= SUFFIX_MAX:
            return self._cipher.update(entry_block(bucket, suffix))[:8], bucket
        return page_hash(0, self._key_prefix + incident), bucket

    def _bucket(self, stem: str) -> int:
        if len(self._buckets) >= HOUR_CACHE_LIMIT:
            self._buckets.clear()
        bucket = self._buckets[stem] = bucket_id(self._key_prefix + stem)
        return bucket

    def _page_fields(
        self, incident: str, source_key: str, day: dt.date, category: str, digest: str
    ) -> tuple[bytes, int, bytes]:
        """The ledger entry's key, bucket and val of a fully parsed call (same as :meth:`fast`).
        A check's val is its digest (a change updates the check); an other call's is empty.
        A call without incident number is keyed by its derived source key, bucketed by day."""
        val = NO_VAL if category == OTHER else bytes.fromhex(digest[:16])
        if incident:
            key, bucket = self._entry_key(incident)
            return key, bucket, val
        derived = bucket_id(f"{self._key_prefix}derived|{day.isoformat()}")
        return page_hash(0, source_key), derived, val

    def _hour(self, prefix: str) -> tuple[str, str, str] | None:
        """Cache entry for a local hour ``YYYY-MM-DD HH``: (local day, local day in ``mark_zone``,
        ``YYYY-MM-DDTHH``), or None when the hour is not one whole-hour offset (see fast)."""
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
                            start.date().isoformat(),
                            mark.date().isoformat(),
                            f"{prefix[:10]}T{prefix[11:13]}",
                        )
        if len(self._hours) >= HOUR_CACHE_LIMIT:
            self._hours.clear()
        self._hours[prefix] = entry
        return entry

    def _fast_type(self, raw: str) -> str | None:
        """An "other" call type that needs no repair (stripped); None otherwise."""
        call_type = raw.strip()
        upper = call_type.upper()
        ok = (
            call_type
            and len(call_type) <= MAX_CODE
            and upper not in self.p.welfare_types
            and upper not in self.p.mental_health_types
        )
        if len(self._types) < HOUR_CACHE_LIMIT:
            self._types[raw] = call_type if ok else None
        return call_type if ok else None

    def _fast_unit(self, raw: str) -> str | None:
        """The beat code of a beat that needs no repair; None otherwise."""
        unit = raw.strip()
        code = self.p.unit_fallback if unit.upper() in self.p.unit_missing else unit
        ok = len(code) <= MAX_CODE
        if len(self._units) < HOUR_CACHE_LIMIT:
            self._units[raw] = code if ok else None
        return code if ok else None

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
