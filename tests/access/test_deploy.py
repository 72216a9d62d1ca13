"""Production settings: `wellcheck check --deploy` passes; the CSP header forbids inline script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.test import Client

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_passes_with_production_settings(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "WELLCHECK_SECURE": "1",
        "WELLCHECK_DEBUG": "0",
        "WELLCHECK_ALLOWED_HOSTS": "wellcheck.example.org",
        "WELLCHECK_DATA_DIR": str(tmp_path),
        "WELLCHECK_LOG_LEVEL": "ERROR",
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_without_them(tmp_path: Path) -> None:
    """Before: the development settings do not pass (the test can tell the difference)."""
    env = {**os.environ, "WELLCHECK_SECURE": "0", "WELLCHECK_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode != 0


def test_every_response_carries_a_strict_csp(db: Any) -> None:
    response = Client().get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
