"""kill -9 in the middle of an import, then a rerun: exactly the database of one clean import.

Runs the real command in subprocesses against two fresh databases (SQLite files, or PostgreSQL
databases when WELLCHECK_DATABASE_URL points at PostgreSQL) that share one data folder (so the
keyed hashes agree), and compares a canonical dump of the import-related tables.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wellcheck.intake.testing import real_file

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _pg_url() -> str | None:
    url = os.environ.get("WELLCHECK_DATABASE_URL", "")
    return url if url.startswith("postgres") else None


class Db:
    """A throwaway database reachable by subprocesses."""

    def __init__(self, tmp: Path, name: str) -> None:
        self.name = name
        base = _pg_url()
        if base:
            root = base.rsplit("/", 1)[0]
            self.url = f"{root}/wc_intake_{name}"
            self.admin = f"{root}/postgres"
        else:
            self.path = tmp / f"{name}.sqlite3"
            self.url = f"sqlite:///{self.path}"

    def batches_done(self) -> int:
        sql = "SELECT COALESCE(MAX(batches_done), 0) FROM intake_importrun"
        if _pg_url():
            import psycopg

            with psycopg.connect(self.url.replace("postgres://", "postgresql://")) as conn:
                return int(conn.execute(sql).fetchone()[0])  # type: ignore[index]
        with sqlite3.connect(self.path) as conn:
            return int(conn.execute(sql).fetchone()[0])


def _env(data_dir: Path, db: Db) -> dict[str, str]:
    env = dict(os.environ)
    env.update(WELLCHECK_DATA_DIR=str(data_dir), WELLCHECK_DATABASE_URL=db.url)
    return env


def _manage(data_dir: Path, db: Db, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "manage.py"), *args],
        env=_env(data_dir, db),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _fresh_pair(tmp: Path, data_dir: Path) -> tuple[Db, Db]:
    clean, killed = Db(tmp, "clean"), Db(tmp, "killed")
    if _pg_url():
        import psycopg

        admin = clean.admin.replace("postgres://", "postgresql://")
        with psycopg.connect(admin, autocommit=True) as conn:
            for db in (clean, killed):
                conn.execute(f'DROP DATABASE IF EXISTS "wc_intake_{db.name}" WITH (FORCE)')
            conn.execute('CREATE DATABASE "wc_intake_clean"')
        done = _manage(data_dir, clean, "migrate", "-v0")
        assert done.returncode == 0, done.stderr
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute('CREATE DATABASE "wc_intake_killed" TEMPLATE "wc_intake_clean"')
    else:
        done = _manage(data_dir, clean, "migrate", "-v0")
        assert done.returncode == 0, done.stderr
        shutil.copy(clean.path, killed.path)
    return clean, killed


def _dump(data_dir: Path, db: Db, out: Path) -> str:
    code = (
        "from wellcheck.intake.testing import canonical_dump; "
        f"open({str(out)!r}, 'w').write(canonical_dump())"
    )
    done = _manage(data_dir, db, "shell", "-c", code)
    assert done.returncode == 0, done.stderr
    return out.read_text()


def test_kill_9_then_rerun_equals_one_clean_import(tmp_path: Path) -> None:
    source = real_file("san_diego")
    if not source.exists():
        pytest.skip("the real data folder ../shared/data/cfs is absent")
    data_dir = tmp_path / "data"
    clean, killed = _fresh_pair(tmp_path, data_dir)
    args = [
        "import_calls",
        "--profile",
        "san_diego",
        "--create-agency",
        "--batch-size",
        "100",  # 266 batches: the import is fast, and the kill must land in the middle
        "--json",
        "--reject-file",
        str(tmp_path / "rejects.csv"),
        str(source),
    ]

    done = _manage(data_dir, clean, *args)
    assert done.returncode == 0, done.stderr
    clean_summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert clean_summary["created_by_category"] == {"welfare_check": 1135, "mental_health": 730}

    proc = subprocess.Popen(
        [sys.executable, str(REPO / "manage.py"), *args],
        env=_env(data_dir, killed),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    try:
        while killed.batches_done() < 3:
            assert proc.poll() is None, "the import finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    at_kill = killed.batches_done()
    assert 3 <= at_kill < 266, at_kill  # 26,595 rows in batches of 100

    rerun = _manage(data_dir, killed, *args)
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout.strip().splitlines()[-1]) == clean_summary

    dump_clean = _dump(data_dir, clean, tmp_path / "clean.txt")
    dump_killed = _dump(data_dir, killed, tmp_path / "killed.txt")
    assert dump_clean.count('["check"') == 1865
    assert dump_killed == dump_clean
