"""The encrypted token store: the one place that hands out Zoom access tokens.

Tokens are encrypted at rest with TOKEN_ENCRYPTION_KEYS (MultiFernet: the first key
encrypts, every key decrypts, so a new key can be prepended before old ones retire;
``rotate_token_keys`` re-encrypts with the first). A new token is fetched, or a
refresh token spent, under a row lock with a re-check once the lock is held: a burst
of requests that all find the token expired makes exactly one call to Zoom, and the
losers use the winner's token. That matters doubly for an OAuth app, whose refresh
token Zoom invalidates on first use (ZOOM_API.md section 3.2).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from zoomadmin.zoom import oauth
from zoomadmin.zoom.errors import ZoomConnectionBroken, ZoomNotConfigured
from zoomadmin.zoom.models import ZoomToken

logger = logging.getLogger(__name__)

CONNECTION = "default"
# Renew a little before Zoom's expiry so a token never dies between check and use.
EXPIRY_MARGIN = timedelta(minutes=2)


@functools.cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _keys() -> MultiFernet:
    return _fernet(tuple(settings.TOKEN_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return _keys().encrypt(value.encode()).decode()


def decrypt(value: str) -> str:
    """Raises ``cryptography.fernet.InvalidToken`` for a tampered value or unknown key."""
    return _keys().decrypt(value.encode()).decode()


def reencrypt(value: str) -> str:
    """The same secret, encrypted with the first key. Raises ``InvalidToken`` like decrypt."""
    return _keys().rotate(value.encode()).decode()


def _row() -> ZoomToken | None:
    return ZoomToken.objects.filter(connection=CONNECTION).first()


def _usable_token(row: ZoomToken | None, stale: str | None) -> str | None:
    if row is None or not row.access_token_encrypted or row.expires_at is None:
        return None
    if row.expires_at - EXPIRY_MARGIN <= timezone.now():
        return None
    try:
        token = decrypt(row.access_token_encrypted)
    except InvalidToken:
        return None  # unreadable (tampered, or its key was removed): renew it
    return None if token == stale else token


def access_token(*, stale: str | None = None) -> str:
    """A working Zoom access token. May call Zoom's OAuth host, under a row lock.

    ``stale`` is a token Zoom has just refused (401, code 124): it is not handed out
    again, but a newer one another request already got is. Raises ``ZoomNotConfigured``
    (no credentials, or an OAuth app nobody connected) or ``ZoomConnectionBroken``.
    """
    row = _row()
    token = _usable_token(row, stale)
    if token is not None:
        return token
    if settings.ZOOM_AUTH_MODE == "server_to_server":
        return _renew(stale, _fetch_server_to_server)
    if settings.ZOOM_AUTH_MODE == "oauth_app":
        _check_connected(row)
        return _renew(stale, _refresh_oauth_app)
    raise ZoomNotConfigured("Zoom is not configured (no Zoom app credentials are set).")


def _check_connected(row: ZoomToken | None) -> None:
    if row is None or not row.refresh_token_encrypted:
        if row is not None and row.broken_reason:
            raise ZoomConnectionBroken(f"The Zoom connection is broken: {row.broken_reason}")
        raise ZoomNotConfigured("Zoom is not connected yet.")


def _renew(stale: str | None, renew_row: Callable[[ZoomToken], str]) -> str:
    """Renew the token under the row lock, unless another request already did."""
    ZoomToken.objects.get_or_create(connection=CONNECTION)
    with transaction.atomic():
        row = ZoomToken.objects.select_for_update().get(connection=CONNECTION)
        token = _usable_token(row, stale)
        if token is not None:
            return token  # another request renewed it while we waited for the lock
        try:
            return renew_row(row)
        except ZoomConnectionBroken as error:
            # Keep the verdict (committed with this block) so nobody retries a dead
            # refresh token; raised again below, outside the transaction.
            _mark_broken(row, error.explanation)
            broken = error
    raise broken


def _fetch_server_to_server(row: ZoomToken) -> str:
    grant = oauth.fetch_server_to_server_token()
    _store(row, grant)
    logger.info("fetched a new Zoom access token, valid until %s", grant.expires_at)
    return grant.access_token


def _refresh_oauth_app(row: ZoomToken) -> str:
    _check_connected(row)  # again, under the lock: another request may have broken it
    try:
        refresh_token = decrypt(row.refresh_token_encrypted)
    except InvalidToken:
        raise ZoomConnectionBroken(
            "the stored refresh token cannot be decrypted with TOKEN_ENCRYPTION_KEYS "
            "(was a key removed?); reconnect Zoom"
        ) from None
    try:
        grant = oauth.refresh(refresh_token)
    except oauth.RefreshRejected as error:
        # We hold the lock and the row still holds this token, so this is not a race
        # lost to another request: Zoom has revoked the grant.
        raise ZoomConnectionBroken(
            f"{error.explanation} An administrator must reconnect Zoom."
        ) from None
    _store(row, grant)
    logger.info("refreshed the Zoom access token, valid until %s", grant.expires_at)
    return grant.access_token


def _store(row: ZoomToken, grant: oauth.TokenGrant) -> None:
    row.access_token_encrypted = encrypt(grant.access_token)
    row.refresh_token_encrypted = encrypt(grant.refresh_token) if grant.refresh_token else ""
    row.expires_at = grant.expires_at
    row.scope = grant.scope
    row.broken_reason = ""
    row.broken_at = None
    row.save()


def _mark_broken(row: ZoomToken, reason: str) -> None:
    row.access_token_encrypted = ""
    row.refresh_token_encrypted = ""
    row.broken_reason = reason[:1000]
    row.broken_at = timezone.now()
    row.save()


def store_authorization(grant: oauth.TokenGrant, *, connected_by: str) -> None:
    """Keep the tokens of a fresh OAuth-app authorization, replacing any old ones."""
    with transaction.atomic():
        row, _ = ZoomToken.objects.select_for_update().get_or_create(connection=CONNECTION)
        row.connected_at = timezone.now()
        row.connected_by = connected_by
        _store(row, grant)


def disconnect() -> bool:
    """Revoke the stored grant at Zoom (one call) and delete it. True if one existed.

    The row is deleted even if Zoom cannot be reached: the administrator asked for the
    dashboard to stop using it. Raises the ``ZoomError`` after deleting, so it is shown.
    """
    row = _row()
    if row is None:
        return False
    secret = row.refresh_token_encrypted or row.access_token_encrypted
    ZoomToken.objects.filter(pk=row.pk).delete()
    if secret:
        try:
            token = decrypt(secret)
        except InvalidToken:
            return True  # nothing readable to revoke
        oauth.revoke(token)
    return True


@dataclass(frozen=True)
class ConnectionStatus:
    mode: str
    has_token: bool
    expires_at: datetime | None
    scopes: list[str]
    connected_at: datetime | None
    connected_by: str
    broken_reason: str
    broken_at: datetime | None
    readable: bool

    @property
    def working(self) -> bool:
        expired = self.expires_at is None or self.expires_at <= timezone.now()
        return self.has_token and self.readable and not self.broken_reason and not expired


def connection_status() -> ConnectionStatus:
    """What the connection page shows. Reads one row; never returns a token."""
    row = _row()
    readable = True
    if row is not None and row.access_token_encrypted:
        try:
            decrypt(row.access_token_encrypted)
        except InvalidToken:
            readable = False
    mode = "sandbox" if settings.ZOOM_SANDBOX else settings.ZOOM_AUTH_MODE
    return ConnectionStatus(
        mode=mode,
        has_token=bool(row and row.access_token_encrypted),
        expires_at=row.expires_at if row else None,
        scopes=sorted(row.scope.split()) if row else [],
        connected_at=row.connected_at if row else None,
        connected_by=row.connected_by if row else "",
        broken_reason=row.broken_reason if row else "",
        broken_at=row.broken_at if row else None,
        readable=readable,
    )
