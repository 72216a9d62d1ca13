"""The browser fixture's rule: skip when Chromium is absent, unless CI requires the browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from _pytest.outcomes import Failed, Skipped

from tests.browser.conftest import require_chromium

MISSING = Path("/nonexistent/chromium")


def test_missing_browser_skips_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WELLCHECK_REQUIRE_BROWSER", raising=False)
    with pytest.raises(Skipped, match="apt-get install -y chromium"):
        require_chromium(MISSING)


def test_missing_browser_fails_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WELLCHECK_REQUIRE_BROWSER", "1")
    with pytest.raises(Failed, match="WELLCHECK_REQUIRE_BROWSER is set"):
        require_chromium(MISSING)


def test_present_browser_neither_skips_nor_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WELLCHECK_REQUIRE_BROWSER", "1")
    fake = tmp_path / "chromium"
    fake.write_text("")
    require_chromium(fake)
