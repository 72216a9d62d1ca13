"""Production settings: `wellcheck check --deploy` passes; the CSP header forbids inline script."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_passes_with_production_settings(tmp_path: Path) -> None:
    env = {
        **{
            k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"
        },  # browser tests
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


def test_check_deploy_fails_without_them() -> None:
    """Before: the development settings (this test process) do not pass, so the check can fail."""
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    with pytest.raises(SystemCheckError):
        call_command("check", deploy=True, fail_level="WARNING", stdout=io.StringIO())


def test_every_response_carries_a_strict_csp(db: Any) -> None:
    response = Client().get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
