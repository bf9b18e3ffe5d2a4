"""Talking to Zoom's OAuth host, with requests-oauthlib.

Server-to-Server OAuth: https://developers.zoom.us/docs/internal-apps/s2s-oauth/
(``grant_type=account_credentials``, Basic client auth, parameters in the form body;
ZOOM_API.md section 3.1). OAuth app (authorization code with PKCE, rotating refresh
tokens, revoke): https://developers.zoom.us/docs/integrations/oauth/ (section 3.2-3.3).
Every request has a timeout; every failure is a ``ZoomError``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from django.conf import settings
from django.utils import timezone
from oauthlib.oauth2 import BackendApplicationClient, InvalidGrantError, OAuth2Error
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from zoomadmin.zoom.errors import (
    ZoomAuthFailed,
    ZoomBadResponse,
    ZoomError,
    ZoomNoAnswer,
    ZoomRateLimited,
    ZoomServerError,
    ZoomUnreachable,
    tracking_id,
)


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    expires_at: datetime
    scope: str
    refresh_token: str = ""

    def __repr__(self) -> str:  # never print a token, even in a traceback
        return f"TokenGrant(expires_at={self.expires_at!r}, scope={self.scope!r})"


class AccountCredentialsClient(BackendApplicationClient):
    """oauthlib's client-credentials client with Zoom's own grant type."""

    grant_type = "account_credentials"


def token_url() -> str:
    return f"{settings.ZOOM_OAUTH_BASE_URL}/oauth/token"


def fetch_server_to_server_token() -> TokenGrant:
    """POST /oauth/token with the account credentials. One HTTP call to Zoom's OAuth host."""
    session = OAuth2Session(client=AccountCredentialsClient(client_id=settings.ZOOM_CLIENT_ID))
    return _fetch(session, account_id=settings.ZOOM_ACCOUNT_ID)


class RefreshRejected(ZoomAuthFailed):
    """Zoom answered ``invalid_grant`` to a refresh: the refresh token is dead."""


def authorization_url(*, redirect_uri: str, state: str, code_challenge: str) -> str:
    """Where to send the administrator to approve the OAuth app (PKCE, S256). No call."""
    session = OAuth2Session(settings.ZOOM_CLIENT_ID, redirect_uri=redirect_uri, state=state)
    url, _ = session.authorization_url(
        f"{settings.ZOOM_OAUTH_BASE_URL}/oauth/authorize",
        code_challenge=code_challenge,
        code_challenge_method="S256",
    )
    return str(url)


def exchange_code(*, code: str, redirect_uri: str, code_verifier: str) -> TokenGrant:
    """POST /oauth/token with the authorization code. One call to Zoom's OAuth host."""
    session = OAuth2Session(settings.ZOOM_CLIENT_ID, redirect_uri=redirect_uri)
    return _fetch(session, code=code, code_verifier=code_verifier)


def refresh(refresh_token: str) -> TokenGrant:
    """POST /oauth/token with a refresh token. One call; Zoom rotates the refresh token,
    so the one passed in is dead afterwards whatever happens to the answer."""
    _allow_loopback_http()
    session = OAuth2Session(settings.ZOOM_CLIENT_ID)
    session.register_compliance_hook("refresh_token_response", _raise_for_http_error)
    try:
        token = session.refresh_token(
            token_url(),
            refresh_token=refresh_token,
            auth=_client_auth(),
            timeout=settings.ZOOM_TIMEOUT,
        )
    except InvalidGrantError as error:
        raise RefreshRejected(
            f"Zoom refused the stored refresh token ({error.description or 'invalid_grant'}).",
            status=error.status_code,
            zoom_message=str(error.description or ""),
        ) from None
    except Exception as error:
        raise _as_zoom_error(error) from None
    grant = _grant_from(token)
    if not grant.refresh_token:
        raise ZoomBadResponse("Zoom's sign-in service sent no new refresh token.")
    return grant


def revoke(token: str) -> None:
    """POST /oauth/revoke (form body ``token=``). One call to Zoom's OAuth host."""
    _allow_loopback_http()
    try:
        response = requests.post(
            f"{settings.ZOOM_OAUTH_BASE_URL}/oauth/revoke",
            data={"token": token},
            auth=_client_auth(),
            timeout=settings.ZOOM_TIMEOUT,
        )
    except requests.RequestException as error:
        raise _as_zoom_error(error) from None
    _raise_for_http_error(response)
    if response.status_code >= 400:
        raise ZoomAuthFailed(
            f"Zoom refused to revoke the token (HTTP {response.status_code}).",
            status=response.status_code,
        )


def _client_auth() -> HTTPBasicAuth:
    return HTTPBasicAuth(settings.ZOOM_CLIENT_ID, settings.ZOOM_CLIENT_SECRET)


def _fetch(session: OAuth2Session, **params: Any) -> TokenGrant:
    """POST /oauth/token for a new grant, for both grant types: Basic auth carries the
    client id, so the form body does not repeat it; 429 and 5xx become our errors."""
    _allow_loopback_http()
    session.register_compliance_hook("access_token_response", _raise_for_http_error)
    try:
        token = session.fetch_token(
            token_url(),
            auth=_client_auth(),
            timeout=settings.ZOOM_TIMEOUT,
            include_client_id=False,
            **params,
        )
    except Exception as error:
        raise _as_zoom_error(error) from None
    return _grant_from(token)


def _as_zoom_error(error: Exception) -> ZoomError:
    """The ZoomError for whatever requests, oauthlib or the compliance hooks raised."""
    if isinstance(error, ZoomError):
        return error
    if isinstance(error, OAuth2Error):
        reason = error.description or "no reason given"
        return ZoomAuthFailed(
            f"Zoom refused our app credentials ({error.error}: {reason}).",
            status=error.status_code,
            zoom_message=str(error.description or ""),
        )
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return ZoomUnreachable("Zoom's sign-in service could not be reached in time.")
    if isinstance(error, requests.ConnectionError):
        return ZoomUnreachable("Zoom's sign-in service could not be reached.")
    if isinstance(error, requests.Timeout):
        return ZoomNoAnswer("Zoom's sign-in service did not answer in time.")
    if isinstance(error, ValueError | requests.RequestException):
        return ZoomBadResponse("Zoom's sign-in service sent an answer we cannot read.")
    raise error


def _grant_from(token: dict[str, Any]) -> TokenGrant:
    access_token = token.get("access_token")
    expires_in = token.get("expires_in")
    if not isinstance(access_token, str) or not access_token:
        raise ZoomBadResponse("Zoom's sign-in service sent no access token.")
    try:
        lifetime = int(expires_in) if expires_in is not None else 3600
    except (TypeError, ValueError):
        raise ZoomBadResponse("Zoom's sign-in service sent a bad token lifetime.") from None
    scope = token.get("scope", "")
    return TokenGrant(
        access_token=access_token,
        expires_at=timezone.now() + timedelta(seconds=lifetime),
        scope=" ".join(scope) if isinstance(scope, list) else str(scope),
        refresh_token=str(token.get("refresh_token") or ""),
    )


def _raise_for_http_error(response: requests.Response) -> requests.Response:
    """Turn 429 and 5xx into our errors before oauthlib tries to parse them as tokens."""
    if response.status_code == 429:
        raise ZoomRateLimited(
            "Zoom's sign-in service is rate limiting us.",
            status=429,
            tracking_id=tracking_id(response),
        )
    if response.status_code >= 500:
        raise ZoomServerError(
            f"Zoom's sign-in service had an error (HTTP {response.status_code}).",
            status=response.status_code,
            tracking_id=tracking_id(response),
        )
    return response


def _allow_loopback_http() -> None:
    # oauthlib refuses http:// outright. Settings allow http only for a loopback
    # host (the sandbox or a local fake), so lifting the guard cannot leak a secret.
    if settings.ZOOM_OAUTH_BASE_URL.startswith("http://"):
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
