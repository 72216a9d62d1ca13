"""A fresh key set for each test session (shared fixtures)."""

from __future__ import annotations

from wellcheck.crypto.testing import _session_keys, key_dir  # noqa: F401  (fixtures)
