"""Lockout (CJIS 5.5.3): 5 failures lock a user name from one address for 10 minutes, on the
sign-in page and on the API token path; no user enumeration."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.test import Client

from wellcheck.accounts.services import token_issue
from wellcheck.audit.models import AuditEvent
from wellcheck.testing.personas import PASSWORD, World

LOGIN = "/accounts/login/"
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def sign_in(client: Client, username: str, password: str, ip: str = "10.0.0.1") -> Any:
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_sixth_attempt_is_refused_even_with_the_right_password_then_unlocks(world: World) -> None:
    with time_machine.travel(START, tick=False) as clock:
        # Before: the right password signs in.
        first = Client()
        assert sign_in(first, "officer_a", PASSWORD).status_code == 302 and signed_in(first)
        client = Client()
        for attempt in range(4):
            response = sign_in(client, "officer_a", f"wrong-{attempt}")
            assert response.status_code == 200, attempt  # the form again, with the same words
            assert not signed_in(client)
        # The 5th failure locks (and says so); the 6th attempt is refused with the right password.
        assert sign_in(client, "officer_a", "wrong-5").status_code == 429
        response = sign_in(client, "officer_a", PASSWORD)
        assert response.status_code == 429
        assert "Too many failed sign-in attempts" in response.content.decode()
        assert not signed_in(client)
        # Another address is not locked (username + address), so nobody can lock out an officer.
        other = Client()
        assert sign_in(other, "officer_a", PASSWORD, ip="10.0.0.2").status_code == 302
        # Still locked at 9 minutes 59 seconds...
        clock.move_to(START + dt.timedelta(minutes=9, seconds=59))
        assert sign_in(Client(), "officer_a", PASSWORD).status_code == 429
        # ...and the retry while locked did not extend the lock: free at 10 minutes.
        clock.move_to(START + dt.timedelta(minutes=10, seconds=1))
        again = Client()
        assert sign_in(again, "officer_a", PASSWORD).status_code == 302 and signed_in(again)
    failures = AuditEvent.objects.filter(
        event_type="sign_in.failure", target_id=str(world.officer_a.pk)
    )
    assert failures.count() >= 6
    assert (
        AuditEvent.objects.filter(event_type="sign_in.success", actor_id=world.officer_a.pk).count()
        == 3
    )
    # The attempted passwords are nowhere in the trail.
    assert not AuditEvent.objects.filter(details__icontains="wrong-").exists()


def test_a_success_resets_the_count(world: World) -> None:
    client = Client()
    for attempt in range(4):
        sign_in(client, "officer_a", f"wrong-{attempt}")
    assert sign_in(client, "officer_a", PASSWORD).status_code == 302
    client = Client()
    for attempt in range(4):
        sign_in(client, "officer_a", f"wrong-{attempt}")
    assert sign_in(client, "officer_a", PASSWORD).status_code == 302


def _body(response: Any) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def test_no_user_enumeration_on_sign_in(world: World) -> None:
    unknown = sign_in(Client(), "nobody_here", "whatever-password")
    wrong = sign_in(Client(), "officer_a", "whatever-password")
    assert unknown.status_code == wrong.status_code == 200
    assert _body(unknown).replace("nobody_here", "X") == _body(wrong).replace("officer_a", "X")
    # An unknown name gets locked out the same way (the lock does not reveal who exists).
    client = Client()
    for _ in range(5):
        sign_in(client, "nobody_here", "x-password")
    assert sign_in(client, "nobody_here", "x-password").status_code == 429


def test_no_user_enumeration_on_password_reset(world: World, mailoutbox: list[Any]) -> None:
    world.officer_a.email = "officer_a@example.org"
    world.officer_a.save(update_fields=["email"])
    known = Client().post("/accounts/password/reset/", {"email": "officer_a@example.org"})
    unknown = Client().post("/accounts/password/reset/", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert len(mailoutbox) == 1  # only the real account gets mail; the answer is the same


def test_timing_is_the_same_order_for_known_and_unknown_names(world: World, settings: Any) -> None:
    """With the real Argon2 hasher, an unknown name costs a hash too (Django hashes a dummy)."""
    import time

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    world.officer_b.set_password(PASSWORD)
    world.officer_b.save()

    def timed(username: str) -> float:
        start = time.perf_counter()
        sign_in(Client(), username, "not-the-password", ip="10.9.9.9")
        return time.perf_counter() - start

    known = timed("officer_b")
    unknown = timed("nobody_at_all")
    assert unknown > known / 5 and known > unknown / 5, (known, unknown)


def _api(token: str, ip: str = "10.0.0.7") -> Any:
    return Client().get("/api/v1/checks/", HTTP_AUTHORIZATION=f"Token {token}", REMOTE_ADDR=ip)


def test_api_token_path_locks_after_five_bad_tokens(world: World) -> None:
    _, good = token_issue(actor=None, user=world.officer_a, name="script")
    with time_machine.travel(START, tick=False) as clock:
        assert _api(good).status_code == 200
        for n in range(4):
            assert _api(f"wc_bogus{n}").status_code == 401
        assert _api("wc_bogus5").status_code == 429  # the 5th failure locks the address
        locked = _api(good)
        assert locked.status_code == 429
        assert _api(good, ip="10.0.0.8").status_code == 200  # by address
        clock.move_to(START + dt.timedelta(minutes=10, seconds=1))
        assert _api(good).status_code == 200
    assert AuditEvent.objects.filter(event_type="sign_in.failure", component="api").count() >= 5


@pytest.mark.parametrize(
    ("password", "words"),
    [
        ("short1!", "too short"),
        ("Police2024!", "attackers try first"),
        ("officer_a-2024", "too similar"),
        ("password123", "too common"),
    ],
)
def test_password_rules(world: World, password: str, words: str) -> None:
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        validate_password(password, world.officer_a)
    assert words in " ".join(caught.value.messages)
    validate_password("harbour lantern quietly 7", world.officer_a)  # a good one passes


def test_passwords_are_hashed_with_argon2_by_default() -> None:
    import wellcheck.settings as configured  # tests swap in a fast hasher; the module keeps Argon2

    assert configured.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert configured.AXES_FAILURE_LIMIT == 5
    assert configured.AXES_COOLOFF_TIME == dt.timedelta(minutes=10)
    assert configured.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
