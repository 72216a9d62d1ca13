"""Reading the packaged San Diego slice: rows, beats, and the disposition-to-outcome map.

Pure functions over the files in ``wellcheck/demo/data/`` (see PROVENANCE.md there); nothing here
writes to the database.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

DATA = Path(__file__).resolve().parent / "data"
CALLS_FILE = DATA / "sd_cw_calls.csv"
BEATS_FILE = DATA / "pd_beat_codes_list_datasd.csv"
LOCAL = ZoneInfo("America/Los_Angeles")

DIVISIONS: dict[str, tuple[str, str]] = {
    "5": ("CENTRAL", "Central Division"),
    "6": ("WESTERN", "Western Division"),
}

# San Diego disposition code -> (WellCheck outcome code, triage code); None: left open.
DISPOSITION_MAP: dict[str, tuple[str, str] | None] = {
    "K": ("safe_no_action", "attend"),
    "KB": ("safe_no_action", "attend"),
    "KHR": ("mobile_crisis", "attend"),
    "OHR": ("mobile_crisis", "attend"),
    "RHR": ("mobile_crisis", "attend"),
    "A": ("arrest", "attend"),
    "AB": ("arrest", "attend"),
    "AHR": ("arrest", "attend"),
    "U": ("safe_no_action", "attend"),
    "R": ("other", "attend"),
    "RB": ("other", "attend"),
    "O": ("other", "attend"),
    "S": ("other", "attend"),
    "CAN": None,
    "W": None,
    "X": None,
}
NOT_LOADED = {"DUP", "V"}  # duplicates of another call: loading them would count a call twice


@dataclass(frozen=True)
class DispatchCall:
    incident_number: str
    received_at: dt.datetime
    beat: str
    disposition: str
    address: str
    priority: str

    @property
    def division(self) -> str:
        return DIVISIONS[self.beat[0]][0]

    @property
    def outcome(self) -> str:
        mapped = DISPOSITION_MAP.get(self.disposition)
        return mapped[0] if mapped else ""

    @property
    def triage(self) -> str:
        mapped = DISPOSITION_MAP.get(self.disposition)
        return mapped[1] if mapped else ""


def block_address(row: dict[str, str]) -> str:
    """The published block address, or the intersection when the block number is 0."""

    def join(*parts: str) -> str:
        return " ".join(p.strip() for p in parts if p and p.strip())

    number = row["address_number_primary"].strip()
    primary = join(
        row["address_dir_primary"], row["address_road_primary"], row["address_sfx_primary"]
    )
    cross = join(
        row["address_dir_intersecting"],
        row["address_road_intersecting"],
        row["address_sfx_intersecting"],
    )
    if number and number != "0":
        return join(number, "BLOCK", primary)
    return f"{primary} & {cross}" if cross else primary


def local_time(text: str) -> dt.datetime:
    """``YYYY-MM-DD HH:MM:SS`` in San Diego local time, as an aware datetime."""
    naive = dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007 (zone added next)
    return naive.replace(tzinfo=LOCAL)


def read_calls(path: Path = CALLS_FILE) -> list[DispatchCall]:
    """The slice's calls in file order, without the duplicates (``DUP``, ``V``)."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    calls = []
    for row in rows:
        if row["disposition"] in NOT_LOADED:
            continue
        if row["disposition"] not in DISPOSITION_MAP:
            raise ValueError(f"Unmapped disposition {row['disposition']!r} in {path.name}.")
        calls.append(
            DispatchCall(
                incident_number=row["incident_num"],
                received_at=local_time(row["date_time"]),
                beat=row["beat"],
                disposition=row["disposition"],
                address=block_address(row),
                priority=row["priority"],
            )
        )
    return calls


def read_beats(path: Path = BEATS_FILE) -> dict[str, str]:
    """Beat code -> neighbourhood, for the demo's divisions only."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return {
            r["beat"]: r["neighborhood"]
            for r in csv.DictReader(fh)
            if len(r["beat"]) == 3 and r["beat"][0] in DIVISIONS
        }
