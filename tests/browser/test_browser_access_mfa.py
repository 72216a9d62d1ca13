"""In real Chromium: enrol an authenticator (QR code), then sign in with a TOTP code computed here.

Lives beside the shared browser fixtures (tests/browser/conftest.py); owned by access control.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
from django_otp.oath import TOTP

from wellcheck.testing.personas import PASSWORD, World


def totp_code(secret: str, *, offset_steps: int = 0) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    totp = TOTP(key, step=30, t0=0, digits=6)
    totp.time = time.time() + offset_steps * 30
    return f"{totp.token():06d}"


def password_step(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form:has(input[name=password]) [type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.mark.browser
def test_enrol_then_sign_in_with_a_totp_code(
    page: Any, live_server: Any, world: World, settings: Any, screenshot: Any
) -> None:
    settings.WELLCHECK_MFA_REQUIRED = True
    base = live_server.url
    password_step(page, base, "officer_a")
    assert "/accounts/mfa/enrol/" in page.url  # every page waits for the second factor
    assert page.locator("figure.qr svg path").count() == 1  # the QR code, drawn inline
    secret = page.locator("#totp-secret").inner_text().strip()
    assert len(secret) >= 32
    screenshot(page, "access-mfa-enrol")
    page.fill("input[name=code]", totp_code(secret))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_selector("ul.recovery-codes")
    assert page.locator("ul.recovery-codes li").count() == 10
    page.get_by_role("link", name="I have saved them, continue").click()
    page.wait_for_url(f"{base}/")
    page.get_by_role("button", name="Sign out officer_a").click()
    page.wait_for_url(lambda url: "/accounts/login/" in url)

    password_step(page, base, "officer_a")
    assert "/accounts/mfa/" in page.url and "enrol" not in page.url
    page.fill(
        "input[name=code]", "000000" if totp_code(secret, offset_steps=1) != "000000" else "111111"
    )
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("alert").is_visible()  # a wrong code is refused
    time.sleep(1.1)  # django-otp throttles one second after a wrong code
    # The enrolment used the current time step; a TOTP code is single-use, so take the next one.
    page.fill("input[name=code]", totp_code(secret, offset_steps=1))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base}/")
    assert page.get_by_role("button", name="Sign out officer_a").is_visible()
    screenshot(page, "access-mfa-signed-in")
