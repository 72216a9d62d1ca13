"""Test personas (after Healthchecks' alice/bob/charlie): one agency, two beats, one user per role.

``make_world()`` returns a :class:`World` whose attributes name who each persona is, so a test
reads "officer_a can, officer_b cannot".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from wellcheck.accounts.models import Agency, RecordPolicy, Unit, UnitKind, User
from wellcheck.accounts.permissions import Role

PASSWORD = "correct-horse-battery-staple-42"  # noqa: S105  (test personas only)


@dataclass
class World:
    agency: Agency
    district: Unit
    unit_a: Unit
    unit_b: Unit
    officer_a: User
    officer_a2: User
    officer_b: User
    supervisor_a: User
    supervisor_b: User
    analyst: User
    records: User
    auditor: User
    admin: User
    partner: User
    other_agency_officer: User

    def personas(self) -> dict[str, User]:
        return {name: value for name, value in vars(self).items() if isinstance(value, User)}


def _user(agency: Agency, username: str, role: str, unit: Unit | None) -> User:
    user = User(username=username, agency=agency, unit=unit, role=role, badge_number=username[-3:])
    user.set_password(PASSWORD)
    user.save()
    return user


def ensure_shared_codes() -> None:
    """Put back the shared codes the data migration loads, if they are gone: a transactional test
    (live server, canaries) flushes the database, data migrations included. Idempotent."""
    from wellcheck.checks.models import Code
    from wellcheck.checks.taxonomy import DEFAULT_CODES

    if Code.objects.filter(agency__isnull=True).exists():
        return
    Code.objects.bulk_create(
        Code(agency=None, category=str(category), code=code, label=label, sort_order=order)
        for category, codes in DEFAULT_CODES.items()
        for order, (code, label) in enumerate(codes)
    )


def make_world(*, policy: str = RecordPolicy.FULL, slug: str = "testpd") -> World:
    ensure_shared_codes()
    agency = Agency.objects.create(name="Test Police Department", slug=slug, record_policy=policy)
    district = Unit.objects.create(
        agency=agency, code="D1", name="District 1", kind=UnitKind.DISTRICT
    )
    unit_a = Unit.objects.create(agency=agency, code="A", name="Beat A", parent=district)
    unit_b = Unit.objects.create(agency=agency, code="B", name="Beat B", parent=district)
    other = Agency.objects.create(name="Other PD", slug=f"{slug}-other")
    other_unit = Unit.objects.create(agency=other, code="A", name="Other beat")
    return World(
        agency=agency,
        district=district,
        unit_a=unit_a,
        unit_b=unit_b,
        officer_a=_user(agency, "officer_a", Role.OFFICER, unit_a),
        officer_a2=_user(agency, "officer_a2", Role.OFFICER, unit_a),
        officer_b=_user(agency, "officer_b", Role.OFFICER, unit_b),
        supervisor_a=_user(agency, "supervisor_a", Role.SUPERVISOR, unit_a),
        supervisor_b=_user(agency, "supervisor_b", Role.SUPERVISOR, unit_b),
        analyst=_user(agency, "analyst", Role.ANALYST, None),
        records=_user(agency, "records", Role.RECORDS, None),
        auditor=_user(agency, "auditor", Role.AUDITOR, None),
        admin=_user(agency, "admin", Role.ADMIN, None),
        partner=_user(agency, "partner", Role.PARTNER, None),
        other_agency_officer=_user(other, "other_officer", Role.OFFICER, other_unit),
    )


def recent(minutes: int = 30) -> dt.datetime:
    return timezone.now() - dt.timedelta(minutes=minutes)
