"""TOTP multi-factor sign-in (django-otp) and single-use recovery codes.

* Enrolment creates an unconfirmed TOTP device; it becomes the user's factor only once a code
  from it is entered. The QR code is drawn here as inline SVG (no external service, no script).
* Recovery codes: ten random codes shown once; only their SHA-256 digests are stored (each code
  carries about 60 bits, so a fast hash is enough); each works once.
* A TOTP code is single-use: django-otp refuses a time step at or before the last one accepted.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import qrcode
import qrcode.image.svg
from django.db import transaction
from django.utils import timezone
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from wellcheck.accounts.models_access import RecoveryCode
from wellcheck.audit.events import EventType
from wellcheck.audit.services import audit_record, audit_record_failure

RECOVERY_CODE_COUNT = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes (0/o, 1/l/i)


def confirmed_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_device(user: Any) -> TOTPDevice:
    """The unconfirmed device being enrolled (created on first call)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def qr_svg(device: TOTPDevice) -> str:
    """The provisioning URI as an inline SVG (path-based, no embedded script or image)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg: str = image.to_string(encoding="unicode")
    return svg


def secret_base32(device: TOTPDevice) -> str:
    import base64

    return base64.b32encode(device.bin_key).decode().rstrip("=")


def _digest(code: str) -> str:
    return hashlib.sha256(code.strip().lower().replace("-", "").encode()).hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


@transaction.atomic
def mfa_confirm(*, request: Any, user: Any, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm enrolment with a code from the app. Returns the new recovery codes, or None."""
    if device.user_id != user.pk or device.confirmed:
        return None
    if not device.verify_token(code.strip()):
        audit_record_failure(
            actor=user,
            event_type=EventType.SIGN_IN_FAILURE,
            target=user,
            details={"factor": "totp", "stage": "enrolment"},
        )
        return None
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    otp_login(request, device)
    audit_record(actor=user, event_type=EventType.MFA_ENROLLED, target=user)
    return recovery_codes_issue(user=user)


@transaction.atomic
def recovery_codes_issue(*, user: Any) -> list[str]:
    """Replace the user's recovery codes by ten new ones; returns the plaintext, shown once."""
    RecoveryCode.objects.filter(user=user).delete()
    codes = [_new_code() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create([RecoveryCode(user=user, digest=_digest(c)) for c in codes])
    audit_record(
        actor=user,
        event_type=EventType.RECOVERY_CODES_ISSUED,
        target=user,
        details={"count": len(codes)},
    )
    return codes


def mfa_verify(*, request: Any, user: Any, code: str) -> bool:
    """The second step of sign-in: a TOTP code or an unused recovery code."""
    code = code.strip()
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        factor = ""
        if device is not None and code.isdigit() and device.verify_token(code):
            factor = "totp"
        elif device is not None and not code.isdigit():
            used = RecoveryCode.objects.filter(
                user=user, digest=_digest(code), used_at__isnull=True
            ).update(used_at=timezone.now())
            factor = "recovery_code" if used else ""
        if factor and device is not None:
            otp_login(request, device)
            audit_record(
                actor=user,
                event_type=EventType.SIGN_IN_SUCCESS,
                target=user,
                details={"factor": factor},
            )
            return True
    audit_record_failure(
        actor=user, event_type=EventType.SIGN_IN_FAILURE, target=user, details={"factor": "totp"}
    )
    return False


@transaction.atomic
def mfa_disable(*, actor: Any, user: Any) -> int:
    """Remove the user's authenticator and recovery codes (they must enrol again to sign in)."""
    count, _ = TOTPDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    audit_record(
        actor=actor, event_type=EventType.MFA_DISABLED, target=user, details={"devices": count}
    )
    return int(count)
