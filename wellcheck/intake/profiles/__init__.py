"""Declarative import profiles (TOML): how one agency's CAD export maps to WellCheck.

A profile names the columns (each with the header spellings it accepts), the time format and
zone, which call types are welfare checks and which are mental-health related, how dispositions
map to the shared outcome codes, the beat/district column, coordinate bounds and how the incident
key is built. A new agency's export is mapped by writing a profile, not code. See
``san_diego.toml`` for a commented example.
"""

from __future__ import annotations

import hashlib
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BUILTIN_DIR = Path(__file__).resolve().parent
FIELDS = (
    "incident_number",
    "received_at",
    "call_type",
    "disposition",
    "unit",
    "latitude",
    "longitude",
)


class ProfileError(ValueError):
    """The profile itself is wrong; the message names the key."""


@dataclass(frozen=True)
class Bounds:
    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.lat_min <= lat <= self.lat_max and self.lon_min <= lon <= self.lon_max


@dataclass(frozen=True)
class Profile:
    name: str
    label: str
    digest: str
    agency_slug: str
    agency_name: str
    time_zone: str
    encoding: str
    delimiter: str
    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    time_formats: tuple[str, ...]
    welfare_types: frozenset[str]
    mental_health_types: frozenset[str]
    outcomes: dict[str, str]
    unit_kind: str
    unit_missing: frozenset[str]
    unit_fallback: str
    unit_name: str
    address_number: str
    address_street: tuple[str, ...]
    address_cross: tuple[str, ...]
    address_strip_suffixes: tuple[str, ...]
    bounds: Bounds | None
    key_namespace: str
    key_fallback: tuple[str, ...] = field(default=("received_at", "call_type", "address"))
    # The ledger pages calls by their incident number without its last N characters: dispatch
    # numbers calls in sequence, so a page holds about 10^N calls of one period (intake.ledger).
    key_bucket_drop: int = 3

    def all_columns(self) -> set[str]:
        return set(self.columns)


def builtin_names() -> list[str]:
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.toml"))


def load_profile(name: str | None = None, *, path: str | Path | None = None) -> Profile:
    """A built-in profile by name, or an agency's own profile file. Raises ProfileError."""
    if path is not None:
        source = Path(path)
    elif name is not None:
        if name not in builtin_names():
            raise ProfileError(
                f"No built-in profile {name!r}. Built-in profiles: {', '.join(builtin_names())}; "
                "or give your own with --profile-file."
            )
        source = BUILTIN_DIR / f"{name}.toml"
    else:
        raise ProfileError("Give --profile NAME or --profile-file PATH.")
    try:
        raw = source.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except OSError as exc:
        raise ProfileError(f"Cannot read the profile {source}: {exc.strerror}.") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(f"The profile {source.name} is not valid TOML: {exc}.") from exc
    return parse_profile(data, digest=hashlib.sha256(raw).hexdigest(), default_name=source.stem)


def _get(data: dict[str, Any], dotted: str, kind: type, default: Any = ...) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            if default is ...:
                raise ProfileError(f"The profile lacks `{dotted}`.")
            return default
        node = node[part]
    if not isinstance(node, kind):
        raise ProfileError(f"`{dotted}` in the profile must be a {kind.__name__}.")
    return node


def _strs(data: dict[str, Any], dotted: str, default: Any = ...) -> tuple[str, ...]:
    value = _get(data, dotted, (list, str), default)  # type: ignore[arg-type]
    items = [value] if isinstance(value, str) else list(value)
    if not all(isinstance(v, str) for v in items):
        raise ProfileError(f"`{dotted}` in the profile must be a list of strings.")
    return tuple(items)


def _upper_set(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(v.strip().upper() for v in values)


def parse_profile(data: dict[str, Any], *, digest: str, default_name: str) -> Profile:
    columns_raw = _get(data, "columns", dict)
    columns: dict[str, tuple[str, ...]] = {}
    for key in columns_raw:
        columns[key] = _strs(data, f"columns.{key}")
    required = _strs(data, "file.required", ("received_at", "call_type"))
    for name in required:
        if name not in columns:
            raise ProfileError(f"`file.required` names {name!r}, which is not under [columns].")
    for name in ("received_at", "call_type"):
        if name not in columns:
            raise ProfileError(f"[columns] must map `{name}`.")
    tz = _get(data, "agency.time_zone", str)
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ProfileError(f"`agency.time_zone` {tz!r} is not a known time zone.") from exc
    outcomes = _get(data, "outcomes", dict, {})
    if not all(isinstance(v, str) for v in outcomes.values()):
        raise ProfileError("Every value under [outcomes] must be an outcome code (a string).")
    bounds_raw = _get(data, "coordinates.bounds", dict, None)
    bounds = None
    if bounds_raw is not None:
        try:
            bounds = Bounds(
                *(float(bounds_raw[k]) for k in ("lat_min", "lat_max", "lon_min", "lon_max"))
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProfileError(
                "`coordinates.bounds` needs numbers lat_min, lat_max, lon_min, lon_max."
            ) from exc
    welfare = _upper_set(_strs(data, "call_types.welfare_check"))
    if not welfare:
        raise ProfileError("`call_types.welfare_check` must list at least one call type.")
    unit_kind = _get(data, "unit.kind", str, "beat")
    if unit_kind not in {"beat", "district", "team"}:
        raise ProfileError("`unit.kind` must be beat, district or team.")
    return Profile(
        name=_get(data, "name", str, default_name),
        label=_get(data, "label", str, default_name),
        digest=digest,
        agency_slug=_get(data, "agency.slug", str),
        agency_name=_get(data, "agency.name", str),
        time_zone=tz,
        encoding=_get(data, "file.encoding", str, "utf-8"),
        delimiter=_get(data, "file.delimiter", str, ","),
        columns=columns,
        required=required,
        time_formats=_strs(data, "time.formats"),
        welfare_types=welfare,
        mental_health_types=_upper_set(_strs(data, "call_types.mental_health", ())),
        outcomes={k.strip().upper(): v for k, v in outcomes.items()},
        unit_kind=unit_kind,
        unit_missing=_upper_set(_strs(data, "unit.missing", ("",))) | {""},
        unit_fallback=_get(data, "unit.fallback", str, "UNKNOWN"),
        unit_name=_get(data, "unit.name", str, "Beat {code} (created by import)"),
        address_number=_get(data, "address.number", str, ""),
        address_street=_strs(data, "address.street", ()),
        address_cross=_strs(data, "address.cross_street", ()),
        address_strip_suffixes=_strs(data, "address.strip_suffixes", ()),
        bounds=bounds,
        key_namespace=_get(data, "key.namespace", str, _get(data, "agency.slug", str)),
        key_fallback=_strs(data, "key.fallback", ("received_at", "call_type", "address")),
        key_bucket_drop=_bucket_drop(data),
    )


def _bucket_drop(data: dict[str, Any]) -> int:
    drop = _get(data, "key.bucket_drop", int, 3)
    if isinstance(drop, bool) or not 0 <= drop <= 8:
        raise ProfileError("`key.bucket_drop` in the profile must be a whole number from 0 to 8.")
    return int(drop)
