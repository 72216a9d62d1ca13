"""Grants are data: an agency's override of the code matrix changes the door, and is audited."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from wellcheck.accounts.grants import effective_matrix, grant_set, user_set_role
from wellcheck.accounts.models_access import Grant
from wellcheck.accounts.permissions import DEFAULT_MATRIX, Action, Role, Scope, scope_for
from wellcheck.audit.models import AuditEvent
from wellcheck.checks.models import WellnessCheck
from wellcheck.testing.personas import World

from .conftest import Records


def fresh(user: object) -> object:
    return type(user).objects.get(pk=user.pk)  # type: ignore[attr-defined]


def test_the_default_matrix_holds_the_issue_rules() -> None:
    assert DEFAULT_MATRIX[Role.ANALYST] == {Action.AGGREGATE_VIEW: Scope.AGENCY}
    assert DEFAULT_MATRIX[Role.AUDITOR] == {Action.AUDIT_VIEW: Scope.AGENCY}
    assert DEFAULT_MATRIX[Role.PARTNER] == {}
    assert Action.AUDIT_VIEW not in DEFAULT_MATRIX[Role.ADMIN]
    assert DEFAULT_MATRIX[Role.RECORDS][Action.BREAK_GLASS_REVIEW] == Scope.AGENCY


def test_an_override_widens_and_narrows_the_door_and_is_audited(
    world: World, records: Records
) -> None:
    check = records.check
    assert (
        not WellnessCheck.objects.restrict(world.officer_b, Action.CHECK_VIEW)
        .filter(pk=check.pk)
        .exists()
    )
    grant_set(
        actor=world.admin,
        agency=world.agency,
        role=Role.OFFICER,
        action=Action.CHECK_VIEW,
        scope=Scope.AGENCY,
        reason="County-wide patrol pilot",
    )
    officer_b = fresh(world.officer_b)
    assert scope_for(officer_b, Action.CHECK_VIEW) == Scope.AGENCY
    assert WellnessCheck.objects.restrict(officer_b, Action.CHECK_VIEW).filter(pk=check.pk).exists()
    grant_set(
        actor=world.admin,
        agency=world.agency,
        role=Role.OFFICER,
        action=Action.CHECK_VIEW,
        scope=None,
        reason="Pilot over",
    )
    officer_a = fresh(world.officer_a)
    assert scope_for(officer_a, Action.CHECK_VIEW) is None
    assert not WellnessCheck.objects.restrict(officer_a, Action.CHECK_VIEW).exists()
    # Back to the default removes the row.
    grant_set(
        actor=world.admin,
        agency=world.agency,
        role=Role.OFFICER,
        action=Action.CHECK_VIEW,
        scope=Scope.UNIT,
        reason="Default again",
    )
    assert not Grant.objects.exists()
    events = AuditEvent.objects.filter(event_type="grant.changed").order_by("id")
    assert [e.changes["scope"] for e in events] == [
        {"from": "unit", "to": "agency"},
        {"from": "agency", "to": None},
        {"from": None, "to": "unit"},
    ]
    assert effective_matrix(world.agency)[Role.OFFICER][Action.CHECK_VIEW] == Scope.UNIT


def test_overrides_are_per_agency(world: World) -> None:
    grant_set(
        actor=world.admin,
        agency=world.agency,
        role=Role.PARTNER,
        action=Action.AGGREGATE_VIEW,
        scope=Scope.AGENCY,
        reason="Sharing agreement 2026-01",
    )
    assert scope_for(fresh(world.partner), Action.AGGREGATE_VIEW) == Scope.AGENCY
    assert scope_for(fresh(world.other_agency_officer), Action.AGGREGATE_VIEW) is None


@pytest.mark.parametrize("role", [Role.ANALYST, Role.AUDITOR])
@pytest.mark.parametrize("action", [Action.CHECK_VIEW_IDENTITY, Action.PERSON_VIEW])
def test_no_override_can_give_identity_to_an_analyst_or_auditor(
    world: World, role: str, action: str
) -> None:
    with pytest.raises(ValidationError):
        grant_set(
            actor=world.admin,
            agency=world.agency,
            role=role,
            action=action,
            scope=Scope.OWN,
            reason="x",
        )
    assert not Grant.objects.exists()


def test_only_an_administrator_of_the_agency_changes_grants(world: World) -> None:
    for actor in (world.officer_a, world.records, world.auditor, world.other_agency_officer):
        with pytest.raises(ValidationError):
            grant_set(
                actor=actor,
                agency=world.agency,
                role=Role.OFFICER,
                action=Action.CHECK_VIEW,
                scope=Scope.AGENCY,
                reason="x",
            )
    with pytest.raises(ValidationError):
        grant_set(
            actor=world.admin,
            agency=world.agency,
            role=Role.ADMIN,
            action=Action.AUDIT_VIEW,
            scope=Scope.AGENCY,
            reason="x",
        )


def test_role_change_is_audited(world: World) -> None:
    user_set_role(
        actor=world.admin,
        user=world.officer_b,
        role=Role.SUPERVISOR,
        unit=world.unit_b,
        reason="Promotion",
    )
    event = AuditEvent.objects.get(event_type="user.role_changed")
    assert event.changes == {"role": {"from": "officer", "to": "supervisor"}}


def test_grants_page_changes_one_cell(world: World) -> None:
    from .conftest import client_for

    admin = client_for(world.admin)
    assert admin.get("/accounts/grants/").status_code == 200
    response = admin.post(
        "/accounts/grants/",
        {"role": "officer", "action": "check.view", "scope": "agency", "reason": "pilot"},
    )
    assert response.status_code == 302
    assert Grant.objects.get().scope == Scope.AGENCY
    assert client_for(world.officer_a).get("/accounts/grants/").status_code == 403


def test_the_door_costs_one_query_for_grants(
    world: World, django_assert_num_queries: object
) -> None:
    officer = fresh(world.officer_a)
    with django_assert_num_queries(1):  # type: ignore[operator]
        for action in Action:
            scope_for(officer, action)
