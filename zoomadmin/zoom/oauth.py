"""Getting access tokens from Zoom's OAuth host, with requests-oauthlib.

Server-to-Server OAuth: https://developers.zoom.us/docs/internal-apps/s2s-oauth/
(``grant_type=account_credentials``, Basic client auth, parameters in the form body;
ZOOM_API.md section 3.1).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from django.conf import settings
from django.utils import timezone
from oauthlib.oauth2 import BackendApplicationClient, OAuth2Error
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
    session.register_compliance_hook("access_token_response", _raise_for_http_error)
    return _fetch(
        session,
        account_id=settings.ZOOM_ACCOUNT_ID,
        include_client_id=False,
    )


def _fetch(session: OAuth2Session, **params: Any) -> TokenGrant:
    _allow_loopback_http()
    try:
        token = session.fetch_token(
            token_url(),
            auth=HTTPBasicAuth(settings.ZOOM_CLIENT_ID, settings.ZOOM_CLIENT_SECRET),
            timeout=settings.ZOOM_TIMEOUT,
            **params,
        )
    except ZoomError:
        raise
    except OAuth2Error as error:
        reason = error.description or "no reason given"
        raise ZoomAuthFailed(
            f"Zoom refused our app credentials ({error.error}: {reason}).",
            status=error.status_code,
            zoom_message=str(error.description or ""),
        ) from None
    except requests.ConnectionError as error:
        raise _transport_error(error) from None
    except requests.Timeout:
        raise ZoomNoAnswer("Zoom's sign-in service did not answer in time.") from None
    except ValueError:
        raise ZoomBadResponse("Zoom's sign-in service sent an answer we cannot read.") from None
    return _grant_from(token)


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
    tracking_id = response.headers.get("x-zm-trackingid", "")
    if response.status_code == 429:
        raise ZoomRateLimited(
            "Zoom's sign-in service is rate limiting us.", status=429, tracking_id=tracking_id
        )
    if response.status_code >= 500:
        raise ZoomServerError(
            f"Zoom's sign-in service had an error (HTTP {response.status_code}).",
            status=response.status_code,
            tracking_id=tracking_id,
        )
    return response


def _transport_error(error: requests.ConnectionError) -> ZoomError:
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return ZoomUnreachable("Zoom's sign-in service could not be reached in time.")
    return ZoomUnreachable("Zoom's sign-in service could not be reached.")


def _allow_loopback_http() -> None:
    # oauthlib refuses http:// outright. Settings allow http only for a loopback
    # host (the sandbox or a local fake), so lifting the guard cannot leak a secret.
    if settings.ZOOM_OAUTH_BASE_URL.startswith("http://"):
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
