"""Dashboard benchmark: 1,000,000 checks on PostgreSQL, every panel vs a raw GROUP BY baseline.

    WELLCHECK_DATA_DIR=/tmp/wc_bench .venv/bin/python bench/dashboard_bench.py [--checks 1000000]

What it does, in one run:

1. (Re)creates the database ``wc_insights_bench`` and migrates it.
2. Generates one agency (9 districts x 14 beats), ``--checks`` checks over 2021-2023 with codes,
   reasons (1.3 per check), referrals, follow-ups, a detail row with a blind address key per
   check, and dispatch call counts, directly with SQL (``INSERT ... SELECT generate_series``).
3. Builds the rollups from the base tables (``rollups_rebuild_all``), timed; then times the
   incremental refresh after one check changes (the path the services drive).
4. For each dashboard panel: p50/p95 of ``make_context`` + the panel (what a request does), and
   p50/p95 of the same aggregate written as a raw SQL GROUP BY over the base tables, in this run.

Coordinates are encrypted at rest (AES-GCM field), so SQL cannot generate them: the hotspot
panel's H3 cells are inserted into the rollup table directly (about 15 cells per beat-month from
a disk of real resolution-8 cells), and that panel has no raw baseline. Everything else is
built by the real refresh code from the generated base rows.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB = os.environ.get("WELLCHECK_BENCH_DB", "wc_insights_bench")
os.environ["WELLCHECK_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB}"
os.environ.setdefault("WELLCHECK_DATA_DIR", str(ROOT / "data" / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wellcheck.settings")
os.environ.setdefault("WELLCHECK_LOG_LEVEL", "WARNING")

from bench.dashboard_sql import RAW  # noqa: E402


def all_months() -> list[Any]:
    import datetime as dt

    return [dt.date(2021 + m // 12, m % 12 + 1, 1) for m in range(36)]


def p(values: list[float], q: float) -> float:
    values = sorted(values)
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


def timed(fn: Any, runs: int, warm: int = 2) -> list[float]:
    for _ in range(warm):
        fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def recreate_db() -> None:
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB], check=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checks", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--raw-runs", type=int, default=10)
    ap.add_argument("--reuse", action="store_true", help="keep the generated database")
    ap.add_argument("--json", default="", help="also write the results here")
    ap.add_argument("--incremental-runs", type=int, default=5)
    args = ap.parse_args()
    if not args.reuse:
        recreate_db()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from bench.dashboard_data import generate, synth_hexes
    from wellcheck.accounts.models import Agency, User
    from wellcheck.insights.filters import AreaScope, Filters
    from wellcheck.insights.models import RollupCell
    from wellcheck.insights.rollups import rollups_mark_dirty, rollups_rebuild_all, rollups_refresh
    from wellcheck.insights.selectors import PANELS, make_context

    results: dict[str, Any] = {"checks": args.checks}
    if args.reuse and Agency.objects.filter(slug="bench").exists():
        agency = Agency.objects.get(slug="bench")
        built = set(
            RollupCell.objects.filter(agency=agency, grain="month", dim="all", area_id=0)
            .values_list("period", flat=True)
        )
        missing = [m for m in all_months() if m not in built]
        if missing:  # an interrupted build: finish it
            from django.db import transaction as tx

            t0 = time.perf_counter()
            with tx.atomic():
                rollups_mark_dirty(agency_id=agency.pk, days=missing)
            rollups_refresh(agency_id=agency.pk)
            print(f"built {len(missing)} missing months in {time.perf_counter() - t0:.1f} s")
    else:
        t0 = time.perf_counter()
        agency = generate(args.checks)
        results["generate_s"] = round(time.perf_counter() - t0, 1)
        print(f"generated {args.checks} checks in {results['generate_s']} s", flush=True)
        t0 = time.perf_counter()
        months = rollups_rebuild_all(agency_id=agency.pk)
        results["full_build_s"] = round(time.perf_counter() - t0, 1)
        synth_hexes(agency)
        print(f"built rollups for {months} months in {results['full_build_s']} s", flush=True)
    results["rollup_rows"] = RollupCell.objects.filter(agency=agency).count()
    from django.db import connection, transaction

    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    # incremental: one check changed -> its month rebuilt on the next read
    import datetime as dt

    inc = []
    for _ in range(args.incremental_runs):
        with transaction.atomic():
            rollups_mark_dirty(agency_id=agency.pk, day=dt.date(2023, 6, 15))
        t0 = time.perf_counter()
        rollups_refresh(agency_id=agency.pk)
        inc.append((time.perf_counter() - t0) * 1000)
    results["incremental_month_refresh_ms"] = {"p50": round(p(inc, 0.5)), "max": round(max(inc))}
    analyst = User.objects.get(username="bench-analyst")
    areas = AreaScope(analyst)
    scenarios = {
        "12 months, whole agency": Filters(first=dt.date(2023, 1, 1), last=dt.date(2023, 12, 1)),
        "36 months, whole agency": Filters(first=dt.date(2021, 1, 1), last=dt.date(2023, 12, 1)),
    }
    results["scenarios"] = {}
    for title, filters in scenarios.items():
        rows = []
        for slug, fn in PANELS.items():

            def run_panel(fn: Any = fn, filters: Filters = filters) -> None:
                fn(make_context(analyst, filters, areas))

            ms = timed(run_panel, args.runs)
            raw_sql = RAW.get(slug)
            raw_ms: list[float] = []
            if raw_sql is not None:
                params = {
                    "agency": agency.pk,
                    # naive local wall-clock bounds; the SQL applies AT TIME ZONE %(tz)s
                    "start": f"{filters.first:%Y-%m-%d} 00:00:00",
                    "end": f"{filters.last.year + 1}-01-01 00:00:00",
                    "tz": agency.time_zone,
                }

                def run_raw(sql: str = raw_sql, params: dict[str, Any] = params) -> None:
                    with connection.cursor() as cur:
                        cur.execute(sql, params)
                        cur.fetchall()

                raw_ms = timed(run_raw, args.raw_runs, warm=1)
            row = {
                "panel": slug,
                "p50_ms": round(p(ms, 0.5), 1),
                "p95_ms": round(p(ms, 0.95), 1),
                "raw_p50_ms": round(p(raw_ms, 0.5), 1) if raw_ms else None,
                "raw_p95_ms": round(p(raw_ms, 0.95), 1) if raw_ms else None,
            }
            rows.append(row)
            print(title, row, flush=True)

        def whole(filters: Filters = filters) -> None:
            ctx = make_context(analyst, filters, areas)
            for fn in PANELS.values():
                fn(ctx)

        dash = timed(whole, max(5, args.runs // 3))
        results["scenarios"][title] = {
            "panels": rows,
            "whole_dashboard_p95_ms": round(p(dash, 0.95), 1),
        }
    print_table(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))


def print_table(results: dict[str, Any]) -> None:
    print()
    print(f"checks: {results['checks']}, rollup rows: {results['rollup_rows']}")
    for key in ("generate_s", "full_build_s", "incremental_month_refresh_ms"):
        if key in results:
            print(f"{key}: {results[key]}")
    for title, sc in results["scenarios"].items():
        print(f"\n### {title} (whole dashboard p95 {sc['whole_dashboard_p95_ms']} ms)\n")
        print("| panel | p50 ms | p95 ms | raw GROUP BY p50 ms | raw p95 ms | p95 ratio |")
        print("|---|---:|---:|---:|---:|---:|")
        for r in sc["panels"]:
            ratio = f"{r['raw_p95_ms'] / r['p95_ms']:.0f}x faster" if r["raw_p95_ms"] else "n/a"
            print(
                f"| {r['panel']} | {r['p50_ms']} | {r['p95_ms']} | {r['raw_p50_ms'] or 'n/a'} | "
                f"{r['raw_p95_ms'] or 'n/a'} | {ratio} |"
            )


if __name__ == "__main__":
    main()
