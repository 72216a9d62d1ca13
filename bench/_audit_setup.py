"""Shared set-up of the audit benchmarks: a fresh PostgreSQL database and Django on it."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]


def fresh_django(
    db_name: str, *, server: str = "postgres://postgres@127.0.0.1:5432", create: bool = True
) -> None:
    """Drop and create ``db_name`` (unless ``create=False``: reuse it), point Django at it,
    migrate."""
    if create:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}"')
            conn.execute(f'CREATE DATABASE "{db_name}"')
    os.environ["WELLCHECK_DATABASE_URL"] = f"{server}/{db_name}"
    os.environ.setdefault("WELLCHECK_DATA_DIR", tempfile.mkdtemp(prefix="wc_bench_"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wellcheck.settings")
    os.environ.setdefault("WELLCHECK_LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def drop(db_name: str, *, server: str = "postgres://postgres@127.0.0.1:5432") -> None:
    from django.db import connections

    connections.close_all()
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db_name}"')
