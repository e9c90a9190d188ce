"""API authentication: personal access tokens for systems, the session for pages."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.db import models
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from onething.accounts.models import ApiToken, User

TOKEN_PREFIX = "ot_"  # noqa: S105 - a public marker, not a secret
# How finely a token's last use is recorded: enough to spot unused tokens, and no write on every
# API request (each would turn a read into a commit).
LAST_USE_RESOLUTION = timedelta(minutes=1)


def new_token_parts() -> tuple[str, str]:
    """A fresh bearer token's prefix (stored, and looked up) and secret (shown once; only its
    `token_hash` is kept); for people's API tokens and exchange clients' alike."""
    # 48 bits (the column's 12 characters): the prefix is unique, and 32 bits would make two of
    # tens of thousands of tokens clash by chance, an error when the second is issued.
    return secrets.token_hex(6), secrets.token_urlsafe(32)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_issue(*, user: User, name: str) -> str:
    """Create a token and return it once; only its hash is kept."""
    prefix, secret = new_token_parts()
    ApiToken.objects.create(user=user, name=name[:100], prefix=prefix, key_hash=token_hash(secret))
    return f"{TOKEN_PREFIX}{prefix}.{secret}"


def user_for_token(token: str) -> User | None:
    if not token.startswith(TOKEN_PREFIX) or "." not in token:
        return None
    prefix, _, secret = token[len(TOKEN_PREFIX) :].partition(".")
    row = ApiToken.objects.select_related("user").filter(prefix=prefix, revoked_at=None).first()
    if row is None or not hmac.compare_digest(row.key_hash, token_hash(secret)):
        return None
    if not row.user.is_active:
        return None
    token_mark_used(row)
    return row.user


def token_mark_used(row: models.Model) -> None:
    """Record when a token (an API or an exchange token) was used, at most once a minute."""
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USE_RESOLUTION:
        type(row).objects.filter(pk=row.pk).update(last_used_at=now)


class TokenAuth(HttpBearer):
    """`Authorization: Bearer ot_<prefix>.<secret>`"""

    def authenticate(self, request, token):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class ActiveSessionAuth(SessionAuth):
    """The signed-in page user (CSRF-checked for writes)."""

    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        return user if user is not None and user.is_authenticated and user.is_active else None


API_AUTH = [TokenAuth(), ActiveSessionAuth()]
