from __future__ import annotations

import pytest

from wellcheck.accounts.models import RecordPolicy
from wellcheck.testing.personas import World, make_world


@pytest.fixture
def world(db: None) -> World:
    return make_world()


@pytest.fixture
def consent_world(db: None) -> World:
    return make_world(policy=RecordPolicy.CONSENT_ONLY, slug="consentpd")


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: object) -> None:
    """Argon2 is deliberately slow; tests that are about hashing set it back themselves."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]
