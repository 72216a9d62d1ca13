"""Reuse the browser fixtures of tests/browser/conftest.py (live server + Debian Chromium)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_path = Path(__file__).resolve().parents[1] / "browser" / "conftest.py"
_spec = importlib.util.spec_from_file_location("wellcheck_browser_fixtures", _path)
assert _spec is not None and _spec.loader is not None
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)

browser = _module.browser
page = _module.page
sign_in = _module.sign_in
screenshot = _module.screenshot
