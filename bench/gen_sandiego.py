"""Synthetic calls for service in the San Diego open-data format (pd_calls_for_service_*.csv).

Deterministic (seeded). Call types follow roughly the shares of the real 2023 extract: about 4.3%
CW (check the welfare), 2.2% 5150 and 0.5% 5150V (mental health), the rest other call types.
About 18% of rows are intersections, 1.5% have beat -1, 0.3% an empty disposition.

    python bench/gen_sandiego.py --rows 1000000 --out /tmp/sd_1m.csv
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
from pathlib import Path

HEADER = [
    "incident_num",
    "date_time",
    "day_of_week",
    "address_number_primary",
    "address_dir_primary",
    "address_road_primary",
    "address_sfx_primary",
    "address_dir_intersecting",
    "address_road_intersecting",
    "address_sfx_intersecting",
    "call_type",
    "disposition",
    "beat",
    "priority",
]
CALL_TYPES = [
    ("CW", 43),
    ("5150", 22),
    ("5150V", 5),
    ("415", 60),
    ("1186", 55),
    ("T", 50),
    ("SELENF", 45),
    ("FD", 40),
    ("ALARM", 35),
    ("11-8", 30),
    ("459", 25),
    ("10852", 20),
    ("242", 20),
    ("415V", 18),
    ("1151", 15),
    ("SHOPS", 15),
    ("RETURN", 12),
    ("911", 12),
    ("PARK", 10),
    ("647F", 10),
    ("1016", 100),
    ("10851", 80),
    ("925", 80),
    ("MISC", 100),
    ("1016PT", 80),
    ("415N", 63),
]
DISPOSITIONS = [
    ("K", 60),
    ("CAN", 6),
    ("O", 8),
    ("R", 8),
    ("A", 6),
    ("DUP", 3),
    ("W", 5),
    ("U", 2),
    ("KHR", 1),
    ("", 1),
]
ROADS = [
    "05TH",
    "UNIVERSITY",
    "EL CAJON",
    "GARNET",
    "MARKET",
    "IMPERIAL",
    "CLAIREMONT MESA",
    "MIRA MESA",
    "BROADWAY",
    "INDIA",
    "FRONT",
    "ADAMS",
    "GENESEE",
    "CAMINO DEL RIO",
]
SUFFIXES = ["AVE", "ST", "BLVD", "DR", "WAY", ""]
BEATS = [
    str(b)
    for b in (
        111,
        112,
        113,
        114,
        115,
        121,
        122,
        123,
        124,
        125,
        126,
        127,
        311,
        312,
        313,
        314,
        315,
        316,
        521,
        522,
        523,
        524,
        525,
        526,
        527,
        614,
        615,
        616,
        621,
        622,
        623,
        624,
        625,
        626,
        627,
        711,
        712,
        713,
        714,
        715,
        716,
    )
]


def generate(rows: int, out: Path, seed: int = 2023) -> Path:
    rng = random.Random(seed)
    types = rng.choices([t for t, _ in CALL_TYPES], [w for _, w in CALL_TYPES], k=rows)
    dispos = rng.choices([d for d, _ in DISPOSITIONS], [w for _, w in DISPOSITIONS], k=rows)
    start = dt.datetime(2023, 1, 1)  # noqa: DTZ001 (local time, as in the real export)
    step = 365 * 86400 / max(rows, 1)
    with out.open("w", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL)
        writer.writerow(HEADER)
        for i in range(rows):
            when = start + dt.timedelta(seconds=int(i * step))
            road = rng.choice(ROADS)
            crossing = rng.random() < 0.18
            number = "0" if crossing else str(rng.randrange(1, 120) * 100)
            cross = rng.choice(ROADS) if crossing else ""
            beat = "-1" if rng.random() < 0.015 else rng.choice(BEATS)
            writer.writerow(
                [
                    f"E{23000000000 + i}",
                    when.strftime("%Y-%m-%d %H:%M:%S"),
                    str((when.weekday() + 1) % 7 + 1),
                    number,
                    "",
                    road,
                    rng.choice(SUFFIXES),
                    "",
                    cross,
                    rng.choice(SUFFIXES) if crossing else "",
                    types[i],
                    dispos[i],
                    beat,
                    str(rng.choice((0, 1, 2, 2, 3, 3, 4, 9))),
                ]
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/sd_synthetic.csv"))  # noqa: S108
    parser.add_argument("--seed", type=int, default=2023)
    args = parser.parse_args()
    generate(args.rows, args.out, args.seed)
    print(args.out)


if __name__ == "__main__":
    main()
