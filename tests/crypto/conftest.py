"""A fresh key set for each test session: key files in a temporary directory."""

from __future__ import annotations

from wellcheck.crypto.testing import _session_keys, key_dir  # noqa: F401  (fixtures)
