"""Idle lock (CJIS 5.5.5) and one session per user (5.5.2.2), with the clock moved."""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine
from django.test import Client

from wellcheck.accounts.models_access import UserSession
from wellcheck.audit.models import AuditEvent
from wellcheck.testing.personas import PASSWORD, World

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def sign_in(username: str) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def is_in(client: Client) -> bool:
    return client.get("/").status_code == 200


def one_session(world: World) -> None:
    world.agency.max_sessions = 1  # the CJIS default (the shared test world allows more)
    world.agency.save(update_fields=["max_sessions"])


def test_session_locks_after_30_idle_minutes(world: World) -> None:
    with time_machine.travel(START, tick=False) as clock:
        client = sign_in("officer_a")
        clock.move_to(START + dt.timedelta(minutes=29))
        assert is_in(client)  # activity: the idle clock starts again here
        clock.move_to(START + dt.timedelta(minutes=29 + 29))
        assert is_in(client)
        clock.move_to(START + dt.timedelta(minutes=58 + 31))
        response = client.get("/")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        assert "_auth_user_id" not in client.session
        page = client.get(response["Location"])
        assert "signed out after a period without activity" in page.content.decode()
    event = AuditEvent.objects.filter(
        event_type="sign_in.sign_out", actor_id=world.officer_a.pk
    ).get()
    assert event.reason == "idle"


def test_idle_limit_is_configurable(world: World, settings: Any) -> None:
    settings.WELLCHECK_SESSION_IDLE_SECONDS = 5 * 60
    with time_machine.travel(START, tick=False) as clock:
        client = sign_in("officer_a")
        clock.move_to(START + dt.timedelta(minutes=6))
        assert not is_in(client)


def test_a_new_sign_in_ends_the_older_session(world: World) -> None:
    one_session(world)
    first = sign_in("officer_a")
    assert is_in(first)
    second = sign_in("officer_a")
    assert is_in(second)
    assert not is_in(first)
    assert UserSession.objects.filter(user=world.officer_a).count() == 1
    # Other users' sessions are untouched.
    other = sign_in("officer_b")
    assert is_in(other) and is_in(second)
    event = AuditEvent.objects.filter(
        event_type="sign_in.success", actor_id=world.officer_a.pk
    ).last()
    assert event is not None and event.details["sessions_ended"] == 1


def test_an_agency_may_allow_more_sessions(world: World) -> None:
    world.agency.max_sessions = 2
    world.agency.save(update_fields=["max_sessions"])
    first, second = sign_in("officer_a"), sign_in("officer_a")
    assert is_in(first) and is_in(second)
    third = sign_in("officer_a")
    assert is_in(third) and is_in(second) and not is_in(first)  # the oldest goes


def test_sign_out_is_audited_and_forgets_the_session(world: World) -> None:
    client = sign_in("officer_a")
    assert client.post("/accounts/logout/").status_code == 302
    assert not is_in(client)
    assert not UserSession.objects.filter(user=world.officer_a).exists()
    assert AuditEvent.objects.filter(
        event_type="sign_in.sign_out", actor_id=world.officer_a.pk
    ).exists()
