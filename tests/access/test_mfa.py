"""TOTP multi-factor sign-in: enrolment with a QR code, the code step, single use, recovery."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from wellcheck.accounts.models_access import RecoveryCode
from wellcheck.audit.models import AuditEvent
from wellcheck.testing.personas import PASSWORD, World


@pytest.fixture(autouse=True)
def _mfa_on(settings: Any) -> None:
    settings.WELLCHECK_MFA_REQUIRED = True


def code_for(device: TOTPDevice, *, offset_steps: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


def password_step(username: str = "officer_a") -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def enrol(client: Client, user: Any) -> list[str]:
    page = client.get("/accounts/mfa/enrol/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body and "<path" in body  # the QR code, inline, no external service
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post("/accounts/mfa/enrol/", {"code": code_for(device), "next": "/"})
    assert response.status_code == 200
    codes = response.context["codes"]
    assert len(codes) == 10
    return list(codes)


def test_every_page_waits_for_the_second_factor_then_enrolment_opens_them(world: World) -> None:
    client = password_step()
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/enrol/")
    api = client.get("/api/v1/checks/")
    assert api.status_code == 403 and "code" in api.json()["detail"]
    codes = enrol(client, world.officer_a)
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/checks/").status_code == 200
    # Recovery codes are stored hashed, never in plaintext.
    stored = set(RecoveryCode.objects.filter(user=world.officer_a).values_list("digest", flat=True))
    assert len(stored) == 10 and not any(c in stored for c in codes)
    assert AuditEvent.objects.filter(
        event_type="sign_in.mfa_enrolled", target_id=str(world.officer_a.pk)
    ).exists()


def test_sign_in_with_totp_is_single_use_and_wrong_codes_fail(world: World) -> None:
    enrol(password_step(), world.officer_a)
    device = TOTPDevice.objects.get(user=world.officer_a, confirmed=True)
    client = password_step()
    response = client.get("/")
    assert response["Location"].startswith("/accounts/mfa/")
    wrong = f"{(int(code_for(device, offset_steps=1)) + 1) % 1_000_000:06d}"
    assert client.post("/accounts/mfa/", {"code": wrong}).status_code == 200
    assert client.get("/").status_code == 302
    time.sleep(1.1)  # django-otp throttles after a wrong code (1 s after the first)
    good = code_for(device, offset_steps=1)  # the enrolment used the current step
    assert client.post("/accounts/mfa/", {"code": good, "next": "/"}).status_code == 302
    assert client.get("/").status_code == 200
    # The same code again (another sign-in) is refused: a TOTP code works once.
    replay = password_step()
    assert replay.post("/accounts/mfa/", {"code": good}).status_code == 200
    assert replay.get("/").status_code == 302
    factors = list(
        AuditEvent.objects.filter(
            actor_id=world.officer_a.pk, event_type="sign_in.success"
        ).values_list("details__factor", flat=True)
    )
    assert "totp" in factors
    assert (
        AuditEvent.objects.filter(event_type="sign_in.failure", details__factor="totp").count() >= 2
    )


def test_a_recovery_code_works_once(world: World) -> None:
    codes = enrol(password_step(), world.officer_a)
    client = password_step()
    assert client.post("/accounts/mfa/", {"code": codes[0], "next": "/"}).status_code == 302
    assert client.get("/").status_code == 200
    again = password_step()
    assert again.post("/accounts/mfa/", {"code": codes[0]}).status_code == 200
    assert again.get("/").status_code == 302


def test_mfa_switched_off_shows_a_banner(world: World, settings: Any) -> None:
    settings.WELLCHECK_MFA_REQUIRED = False
    client = password_step()
    page = client.get("/")
    assert page.status_code == 200
    assert "Multi-factor sign-in is switched off" in page.content.decode()


def test_replacing_the_authenticator_needs_the_password_and_is_audited(world: World) -> None:
    client = password_step()
    enrol(client, world.officer_a)
    assert client.post("/accounts/mfa/replace/", {"password": "wrong"}).status_code == 200
    assert TOTPDevice.objects.filter(user=world.officer_a, confirmed=True).exists()
    response = client.post("/accounts/mfa/replace/", {"password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/mfa/enrol/"
    assert not TOTPDevice.objects.filter(user=world.officer_a, confirmed=True).exists()
    assert not RecoveryCode.objects.filter(user=world.officer_a).exists()
    assert AuditEvent.objects.filter(
        event_type="sign_in.mfa_disabled", actor_id=world.officer_a.pk
    ).exists()
