"""Shared setup for the crypto benchmarks: a fresh database of their own, migrated, and keys in
``<tmp>/<database>_data``. Never touches the development or test databases."""

from __future__ import annotations

import os
import shutil
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
    # The keys live beside the database (a data dir per database) so that a later ``--keep`` run
    # can read the rows; a fresh database gets fresh keys.
    data = Path(tempfile.gettempdir()) / f"{db}_data"
    if not keep:
        shutil.rmtree(data, ignore_errors=True)
    data.mkdir(mode=0o700, exist_ok=True)
    os.environ.setdefault("WELLCHECK_DATA_DIR", str(data))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wellcheck.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
