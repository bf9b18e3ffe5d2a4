"""The encrypted token store: one place that hands out Zoom access tokens.

Tokens are encrypted at rest with TOKEN_ENCRYPTION_KEYS (MultiFernet: the first key
encrypts, every key decrypts, so a new key can be prepended before old ones retire).
A new token is fetched under a row lock, with a re-check once the lock is held, so a
burst of requests that all find the token expired fetch exactly one.
"""

from __future__ import annotations

import functools
import logging
from datetime import timedelta

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from zoomadmin.zoom import oauth
from zoomadmin.zoom.errors import ZoomNotConfigured
from zoomadmin.zoom.models import ZoomToken

logger = logging.getLogger(__name__)

CONNECTION = "default"
# Refetch a little before Zoom's expiry so a token never dies between check and use.
EXPIRY_MARGIN = timedelta(minutes=2)


@functools.cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(value: str) -> str:
    return _fernet(tuple(settings.TOKEN_ENCRYPTION_KEYS)).encrypt(value.encode()).decode()


def decrypt(value: str) -> str:
    """Raises ``cryptography.fernet.InvalidToken`` for a tampered value or unknown key."""
    return _fernet(tuple(settings.TOKEN_ENCRYPTION_KEYS)).decrypt(value.encode()).decode()


def _usable_token(row: ZoomToken | None, stale: str | None) -> str | None:
    if row is None or not row.access_token_encrypted or row.expires_at is None:
        return None
    if row.expires_at - EXPIRY_MARGIN <= timezone.now():
        return None
    try:
        token = decrypt(row.access_token_encrypted)
    except InvalidToken:
        return None  # unreadable (tampered, or its key was removed): fetch a fresh one
    return None if token == stale else token


def access_token(*, stale: str | None = None) -> str:
    """A working Zoom access token. May call Zoom's OAuth host, under a row lock.

    ``stale`` is a token Zoom has just refused (401, code 124): it is not handed out
    again, but a newer one another request already fetched is.
    """
    token = _usable_token(ZoomToken.objects.filter(connection=CONNECTION).first(), stale)
    if token is not None:
        return token
    if settings.ZOOM_AUTH_MODE != "server_to_server":
        raise ZoomNotConfigured("Zoom is not connected.")
    ZoomToken.objects.get_or_create(connection=CONNECTION)
    with transaction.atomic():
        row = ZoomToken.objects.select_for_update().get(connection=CONNECTION)
        token = _usable_token(row, stale)
        if token is not None:
            return token  # another request fetched one while we waited for the lock
        grant = oauth.fetch_server_to_server_token()
        logger.info("fetched a new Zoom access token, valid until %s", grant.expires_at)
        row.access_token_encrypted = encrypt(grant.access_token)
        row.refresh_token_encrypted = ""
        row.expires_at = grant.expires_at
        row.scope = grant.scope
        row.save()
        return grant.access_token
