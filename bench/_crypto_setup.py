"""Shared setup for the crypto benchmarks: a fresh database of their own, migrated, and keys in
a temporary directory. Never touches the development or test databases."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def fresh_django(db: str, *, keep: bool = False) -> None:
    """Point Django at ``db`` on the local PostgreSQL (created if missing) and migrate it."""
    if not keep:
        subprocess.run(
            ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", db], check=True
        )
    subprocess.run(
        ["createdb", "-h", "127.0.0.1", "-U", "postgres", db], check=False, capture_output=True
    )
    os.environ["WELLCHECK_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{db}"
    os.environ.setdefault("WELLCHECK_DATA_DIR", tempfile.mkdtemp(prefix="wc_crypto_bench_"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wellcheck.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
