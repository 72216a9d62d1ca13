"""A fresh key set for each test session: key files in a temporary directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from wellcheck.crypto import blind, keyring, providers


@pytest.fixture(scope="session", autouse=True)
def _session_keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    key_dir = tmp_path_factory.mktemp("keys")
    old = settings.WELLCHECK_KEY_DIR
    settings.WELLCHECK_KEY_DIR = key_dir
    reset_all()
    yield key_dir
    settings.WELLCHECK_KEY_DIR = old
    reset_all()


def reset_all() -> None:
    providers.set_provider(None)
    keyring.reset_caches()
    blind.reset_caches()


@pytest.fixture
def key_dir(_session_keys: Path) -> Path:
    return _session_keys
