from __future__ import annotations

import pytest

from wellcheck.accounts.models import RecordPolicy
from wellcheck.testing.personas import World, make_world


def _sessions_allowed(world: World) -> World:
    """Tests sign the same persona in from several clients; CJIS allows one session per user
    unless the agency allows more, so the test agencies allow more. The one-session default is
    proven in tests/access/test_sessions.py (which sets the limit back to 1)."""
    world.agency.max_sessions = 50
    world.agency.save(update_fields=["max_sessions"])
    return world


@pytest.fixture
def world(db: None) -> World:
    return _sessions_allowed(make_world())


@pytest.fixture
def consent_world(db: None) -> World:
    return _sessions_allowed(make_world(policy=RecordPolicy.CONSENT_ONLY, slug="consentpd"))


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: object) -> None:
    """Argon2 is deliberately slow; tests that are about hashing set it back themselves."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _mfa_off_unless_asked(settings: object) -> None:
    """Multi-factor sign-in is on in every real deployment; most tests are about something else.

    Tests of sign-in itself (tests/access/) turn it back on: ``settings.WELLCHECK_MFA_REQUIRED``.
    """
    settings.WELLCHECK_MFA_REQUIRED = False  # type: ignore[attr-defined]


def pytest_sessionstart(session: pytest.Session) -> None:
    """CI sets WELLCHECK_REQUIRE_REAL_DATA=1: the real dispatch extracts beside the clone
    (``../shared/data/cfs``) must be there, so the real-data tests run instead of skipping."""
    import os
    from pathlib import Path

    if os.environ.get("WELLCHECK_REQUIRE_REAL_DATA") != "1":
        return
    cfs = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cfs"
    missing = [city for city in ("san_diego", "milwaukee", "berkeley") if not (cfs / city).is_dir()]
    if missing:
        raise pytest.UsageError(
            f"WELLCHECK_REQUIRE_REAL_DATA=1 but {cfs} lacks {', '.join(missing)}: "
            "the real-data tests would be skipped."
        )


@pytest.fixture(scope="session", autouse=True)
def _close_audit_side_writer(django_db_setup: None, django_db_blocker: object) -> object:
    """The audit side writer (``wellcheck.audit.side``) keeps a connection of its own; close it
    before the test database is dropped (teardown runs before ``django_db_setup``'s)."""
    yield
    from wellcheck.audit.side import side_writer_close

    side_writer_close()
