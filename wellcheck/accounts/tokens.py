"""API tokens for scripts and partner systems.

Only a SHA-256 digest of each token is stored, so a copy of the database gives no usable token.
The plaintext is shown once, when it is issued (``wellcheck issue-token``).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.utils import timezone
from rest_framework import authentication, exceptions

PREFIX_LEN = 8


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_raw_token() -> str:
    return "wc_" + secrets.token_urlsafe(32)


class TokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Token <key>``. Revoked, expired or unknown tokens are refused alike."""

    keyword = "Token"

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: expected 'Token <key>'.")
        from wellcheck.accounts.lockout import LOCKED_MESSAGE, token_allowed, token_failed

        # Lockout (CJIS 5.5.3) on the token path too: axes does not see DRF authentication.
        if not token_allowed(request):
            raise exceptions.Throttled(detail=LOCKED_MESSAGE)
        try:
            raw = header[1].decode()
        except UnicodeError as exc:
            token_failed(request)
            raise exceptions.AuthenticationFailed("Invalid token header.") from exc
        from wellcheck.accounts.models_tokens import ApiToken

        token = (
            ApiToken.objects.select_related("user", "user__agency", "user__unit")
            .filter(digest=digest(raw), revoked_at__isnull=True)
            .first()
        )
        now = timezone.now()
        if (
            token is None
            or (token.expires_at and token.expires_at <= now)
            or not token.user.is_active
        ):
            token_failed(request)
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return (token.user, token)

    def authenticate_header(self, request: Any) -> str:
        return self.keyword
