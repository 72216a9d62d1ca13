"""Benchmark: the CAD import with everything on, against a raw PostgreSQL COPY, in one run.

1. Generate N synthetic San Diego rows (bench/gen_sandiego.py) unless the file exists.
2. Fresh PostgreSQL database, migrated.
3. Baseline: the same CSV loaded with a raw ``COPY ... FROM STDIN (FORMAT csv, HEADER)`` into a
   table of the same shape (the 14 columns, typed), streamed from the file by psycopg 3; three
   rounds (``--copy-rounds``), the fastest compared with.
4. The import: ``manage.py import_calls --profile san_diego --json`` in a subprocess (parsing,
   keyed hashes, the ledger, counts, checks and encrypted details, one audit event per batch,
   progress committed per batch), its wall time and peak RSS (``RUSAGE_CHILDREN``).

    python bench/import_sandiego.py --rows 1000000
Prints rows/s of both, the ratio (target >= 25%) and the import's peak memory (<= 300 MB).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from gen_sandiego import generate  # noqa: E402

SHAPE = """
CREATE TABLE raw_calls (
    incident_num text, date_time timestamp, day_of_week smallint,
    address_number_primary integer, address_dir_primary text, address_road_primary text,
    address_sfx_primary text, address_dir_intersecting text, address_road_intersecting text,
    address_sfx_intersecting text, call_type text, disposition text, beat integer,
    priority smallint
)
"""


def fresh_database(root: str, name: str) -> str:
    with psycopg.connect(f"{root}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{root}/{name}"


def raw_copy(url: str, path: Path) -> tuple[int, float]:
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS raw_calls")
        conn.execute(SHAPE)
        conn.commit()
        start = time.perf_counter()
        with conn.cursor() as cur, path.open("rb") as fh:
            with cur.copy("COPY raw_calls FROM STDIN (FORMAT csv, HEADER)") as copy:
                while block := fh.read(1 << 20):
                    copy.write(block)
        conn.commit()
        seconds = time.perf_counter() - start
        rows = conn.execute("SELECT count(*) FROM raw_calls").fetchone()[0]  # type: ignore[index]
    return rows, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--file", type=Path, default=None)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="wc_intake_bench")
    parser.add_argument("--batch-size", type=int, default=50_000)
    parser.add_argument("--data-dir", default="/tmp/wc_intake_bench")  # noqa: S108
    parser.add_argument("--copy-rounds", type=int, default=3)
    args = parser.parse_args()

    path = args.file or Path(f"/tmp/wc_intake_sd_{args.rows}.csv")  # noqa: S108
    if not path.exists():
        t = time.perf_counter()
        generate(args.rows, path)
        print(f"generated {args.rows:,} rows in {time.perf_counter() - t:.1f}s -> {path}")
    url = fresh_database(args.pg, args.db)
    env = dict(
        os.environ,
        WELLCHECK_DATABASE_URL=url.replace("postgresql://", "postgres://"),
        WELLCHECK_DATA_DIR=args.data_dir,
    )
    manage = [sys.executable, str(REPO / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=REPO)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    migrate_cpu = before.ru_utime + before.ru_stime

    # The baseline moves from run to run (checkpoints, the machine): it is measured several times
    # and the fastest round is the one compared with (the conservative choice for the ratio).
    rounds = []
    for _ in range(args.copy_rounds):
        rows, copy_s = raw_copy(url, path)
        rounds.append(rows / copy_s)
        print(f"raw COPY: {rows:,} rows in {copy_s:.2f}s = {rows / copy_s:,.0f} rows/s")
    copy_rate = max(rounds)
    print(f"raw COPY baseline (fastest of {len(rounds)}): {copy_rate:,.0f} rows/s")

    start = time.perf_counter()
    done = subprocess.run(
        [
            *manage,
            "import_calls",
            "--profile",
            "san_diego",
            "--create-agency",
            "--json",
            "--batch-size",
            str(args.batch_size),
            "--reject-file",
            f"{args.data_dir}/rejects.csv",
            str(path),
        ],
        env=env,
        check=True,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    import_s = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_mb = usage.ru_maxrss / 1024
    cpu_s = usage.ru_utime + usage.ru_stime - migrate_cpu
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    import_rate = summary["rows_read"] / import_s
    ratio = import_rate / copy_rate
    print(
        f"import (everything on, incl. process start): {summary['rows_read']:,} rows in "
        f"{import_s:.1f}s = {import_rate:,.0f} rows/s"
    )
    print(f"ratio import/COPY = {ratio:.1%} (target >= 25%, aim 50%)")
    print(f"peak RSS of the import process: {peak_mb:.0f} MB (limit 300 MB)")
    print(
        f"import process CPU: {cpu_s:.1f}s = {summary['rows_read'] / cpu_s:,.0f} rows per "
        f"CPU-second (load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    print(
        json.dumps(
            {
                "rows": rows,
                "copy_rows_per_s": round(copy_rate),
                "copy_rounds_rows_per_s": [round(r) for r in rounds],
                "import_rows_per_s": round(import_rate),
                "ratio": round(ratio, 3),
                "peak_rss_mb": round(peak_mb),
                "import_cpu_s": round(cpu_s, 1),
                "summary": summary,
            }
        )
    )


if __name__ == "__main__":
    main()
