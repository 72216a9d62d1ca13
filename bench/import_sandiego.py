"""Benchmark: the CAD import with everything on, against a raw PostgreSQL COPY, in one run.

1. Generate N synthetic San Diego rows (bench/gen_sandiego.py) unless the file exists.
2. Each round (``--rounds``, default 3): a fresh PostgreSQL database, migrated; the baseline, the
   same CSV loaded with a raw ``COPY ... FROM STDIN (FORMAT csv, HEADER)`` into a table of the
   same shape (the 14 columns, typed), streamed from the file by psycopg 3, after a CHECKPOINT;
   that table dropped and another CHECKPOINT (the import does not pay for the baseline's
   writes); then the import,
   ``manage.py import_calls --profile san_diego --json`` in a subprocess (parsing, keyed hashes,
   the ledger, counts, checks and encrypted details, one audit event per batch, progress
   committed per batch): its wall time including process start, its CPU, and the memory of it
   and its parsing process together (PSS and RSS sampled from /proc every 0.1 s).
3. A round's ratio pairs the import with the COPY measured just before it. Reported: each round,
   the median ratio, and the fastest import against the fastest COPY: the target's figures, with
   the process's start and exit in. Also reported, to tell the fixed start-up cost from the rate:
   the run itself (its ImportRun row, from opening to closing) against the same COPY.

    python bench/import_sandiego.py --rows 1000000
Target: >= 25% of the baseline's rows/s (aim 50%); memory <= 300 MB.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
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


def run_seconds(url: str) -> float:
    """The import's own time: its ImportRun from ``created_at`` (opened once the command has
    started, the parsing process forked and the file hashed) to ``finished_at``. What it leaves
    out of the wall time is Python's and Django's start-up and the process's exit: a fixed cost,
    not a rate."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT extract(epoch FROM finished_at - created_at) FROM intake_importrun "
            "ORDER BY created_at DESC LIMIT 1"
        ).fetchone()
    assert row is not None and row[0] is not None
    return float(row[0])


def _steal_ticks() -> int:
    """The machine's CPU time stolen by its hypervisor so far (/proc/stat; 0 elsewhere)."""
    try:
        with open("/proc/stat") as fh:
            fields = fh.readline().split()
        return int(fields[8])
    except (OSError, IndexError, ValueError):
        return 0


class TreeMemory(threading.Thread):
    """Samples the memory of a process and its descendants (Linux /proc): the sum of their RSS
    (a page shared by the import and its forked parsing process counted twice) and of their PSS
    (shared pages split between them). ``ru_maxrss`` gives only the largest single process."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_rss_mb = 0.0
        self.peak_pss_mb = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.1):
            rss = pss = 0
            for pid in self._tree():
                try:
                    with open(f"/proc/{pid}/smaps_rollup") as fh:
                        for line in fh:
                            if line.startswith("Rss:"):
                                rss += int(line.split()[1])
                            elif line.startswith("Pss:"):
                                pss += int(line.split()[1])
                except OSError:
                    continue
            self.peak_rss_mb = max(self.peak_rss_mb, rss / 1024)
            self.peak_pss_mb = max(self.peak_pss_mb, pss / 1024)

    def _tree(self) -> list[int]:
        pids, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            try:
                with open(f"/proc/{pid}/task/{pid}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
            except OSError:
                continue
        return pids

    def stop(self) -> None:
        self._done.set()
        self.join()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--file", type=Path, default=None)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="wc_intake_bench")
    parser.add_argument("--batch-size", type=int, default=50_000)
    parser.add_argument("--data-dir", default="/tmp/wc_intake_bench")  # noqa: S108
    parser.add_argument("--rounds", type=int, default=3, help="COPY then import, each round")
    args = parser.parse_args()

    # The tree as deployed: WellCheck's modules compiled to bytecode, as `dev.py` leaves them
    # (where Python may not write its cache, each import would otherwise compile them again).
    compileall.compile_dir(REPO / "wellcheck", quiet=1)
    path = args.file or Path(f"/tmp/wc_intake_sd_{args.rows}.csv")  # noqa: S108
    if not path.exists():
        t = time.perf_counter()
        generate(args.rows, path)
        print(f"generated {args.rows:,} rows in {time.perf_counter() - t:.1f}s -> {path}")
    results = [one_round(args, path, n) for n in range(1, args.rounds + 1)]
    # Both measurements move from run to run (the machine, checkpoints), so each round measures
    # the baseline right before the import. Reported: the median of the rounds' own ratios, and
    # the fastest import against the fastest COPY.
    median = statistics.median(float(r["ratio"]) for r in results)  # type: ignore[arg-type]
    best_copy = max(r["copy_rows_per_s"] for r in results)
    best_import = max(r["import_rows_per_s"] for r in results)
    pss = max(r["peak_tree_pss_mb"] for r in results)
    run_median = statistics.median(float(r["run_ratio"]) for r in results)  # type: ignore[arg-type]
    print(
        f"== {len(results)} rounds: median ratio {median:.1%}; fastest import {best_import:,.0f} "
        f"rows/s / fastest COPY {best_copy:,.0f} rows/s = {best_import / best_copy:.1%} "
        f"(target >= 25%); peak memory (PSS, import and parsing process) {pss:.0f} MB "
        "(limit 300 MB)"
    )
    print(
        f"   the runs themselves (start-up and exit left out): median {run_median:.1%} of the COPY"
    )
    print(
        json.dumps(
            {
                "rows": results[0]["rows"],
                "median_ratio": round(median, 3),
                "best_ratio": round(best_import / best_copy, 3),
                "peak_tree_pss_mb": round(pss),
                "run_median_ratio": round(run_median, 3),
                "rounds": results,
            }
        )
    )


def one_round(args: argparse.Namespace, path: Path, n: int) -> dict[str, object]:
    """A fresh database, the raw COPY baseline, then the import; the round's figures."""
    url = fresh_database(args.pg, args.db)
    env = dict(
        os.environ,
        WELLCHECK_DATABASE_URL=url.replace("postgresql://", "postgres://"),
        WELLCHECK_DATA_DIR=args.data_dir,
    )
    manage = [sys.executable, str(REPO / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=REPO)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")  # both measurements start from a clean buffer cache
    rows, copy_s = raw_copy(url, path)
    copy_rate = rows / copy_s
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE raw_calls")
        conn.execute("CHECKPOINT")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    steal_before = _steal_ticks()
    proc = subprocess.Popen(
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
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    tree = TreeMemory(proc.pid)
    tree.start()
    stdout, stderr = proc.communicate()
    import_s = time.perf_counter() - start
    tree.stop()
    steal_s = (_steal_ticks() - steal_before) / os.sysconf("SC_CLK_TCK")
    if proc.returncode:
        sys.exit(f"the import failed ({proc.returncode}):\n{stderr[-2000:]}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime
    summary = json.loads(stdout.strip().splitlines()[-1])
    import_rate = summary["rows_read"] / import_s
    ratio = import_rate / copy_rate
    run_s = run_seconds(url)
    run_rate = summary["rows_read"] / run_s
    print(
        f"round {n}: raw COPY {rows:,} rows in {copy_s:.2f}s = {copy_rate:,.0f} rows/s; import "
        f"(everything on, incl. process start) {summary['rows_read']:,} rows in {import_s:.1f}s "
        f"= {import_rate:,.0f} rows/s; ratio {ratio:.1%}"
    )
    print(
        f"  of which the run itself (its ImportRun, opened once the command has started and the "
        f"file is hashed, to closed) {run_s:.2f}s = {run_rate:,.0f} rows/s, "
        f"{run_rate / copy_rate:.1%} of the COPY; start-up and exit {import_s - run_s:.2f}s"
    )
    print(
        f"  memory of the import and its parsing process together: PSS {tree.peak_pss_mb:.0f} MB "
        f"(shared pages counted once), RSS {tree.peak_rss_mb:.0f} MB (counted twice); the larger "
        f"process alone {usage.ru_maxrss / 1024:.0f} MB (ru_maxrss, all rounds)"
    )
    print(
        f"  import CPU {cpu_s:.1f}s (both processes); CPU taken by the VM's host (steal) "
        f"{steal_s:.1f}s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    return {
        "rows": rows,
        "copy_rows_per_s": round(copy_rate),
        "import_rows_per_s": round(import_rate),
        "ratio": round(ratio, 3),
        "run_rows_per_s": round(run_rate),
        "run_ratio": round(run_rate / copy_rate, 3),
        "peak_tree_pss_mb": round(tree.peak_pss_mb),
        "peak_tree_rss_mb": round(tree.peak_rss_mb),
        "import_cpu_s": round(cpu_s, 1),
        "steal_s": round(steal_s, 1),
        "summary": summary,
    }


if __name__ == "__main__":
    main()
