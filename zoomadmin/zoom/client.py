"""Zoom's REST API, one function per endpoint we use.

Reference: https://developers.zoom.us/docs/api/users/ (Zoom's OpenAPI copy in
tests/zoom/users-openapi.json). Every call has a timeout; a 401 with code 124 gets
one new token and one retry; every failure becomes a ``ZoomError`` subclass.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings
from django.utils.dateparse import parse_datetime

from zoomadmin.zoom import tokens
from zoomadmin.zoom.errors import (
    ZoomAuthFailed,
    ZoomBadResponse,
    ZoomError,
    ZoomNoAnswer,
    ZoomRateLimited,
    ZoomRejected,
    ZoomServerError,
    ZoomUnreachable,
    ZoomUserNotFound,
)
from zoomadmin.zoom.ids import is_user_reference

SSO_LOGIN_TYPE = 101
TOKEN_EXPIRED_CODE = 124
USER_NOT_FOUND_CODE = 1001

_local = threading.local()
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ZoomUser:
    id: str
    email: str
    first_name: str
    last_name: str
    display_name: str
    status: str
    type: int
    dept: str
    login_types: tuple[int, ...]
    last_login_time: datetime | None
    role_id: str = ""

    @property
    def name(self) -> str:
        return self.display_name or f"{self.first_name} {self.last_name}".strip() or self.email

    @property
    def signs_in_with_sso(self) -> bool:
        return SSO_LOGIN_TYPE in self.login_types

    @classmethod
    def from_api(cls, data: object) -> ZoomUser:
        if not isinstance(data, dict) or not isinstance(data.get("email"), str):
            raise ZoomBadResponse("Zoom sent a user without an email address.")
        login_types = data.get("login_types") or ()
        last_login = data.get("last_login_time")
        return cls(
            id=str(data.get("id") or ""),
            email=data["email"],
            first_name=str(data.get("first_name") or ""),
            last_name=str(data.get("last_name") or ""),
            display_name=str(data.get("display_name") or ""),
            status=str(data.get("status") or "active"),
            type=int(data.get("type") or 0),
            dept=str(data.get("dept") or ""),
            login_types=tuple(int(t) for t in login_types if isinstance(t, int)),
            last_login_time=parse_datetime(last_login) if isinstance(last_login, str) else None,
            role_id=str(data.get("role_id") or ""),
        )


@dataclass(frozen=True)
class ZoomAnswer:
    status: int
    tracking_id: str


def user_url(user_id: str, *suffix: str) -> str:
    """The one place a user's URL is built: ``/users/{userId}`` plus an optional suffix.

    ``DELETE /users/{userId}`` deletes the Zoom account while ``/users/{userId}/token``
    only signs it out, so callers name the suffix and tests pin the exact path.
    """
    if not is_user_reference(user_id):
        raise ValueError("not a Zoom user id or email address")
    path = "/".join(["users", quote(user_id, safe="@+"), *suffix])
    return f"{settings.ZOOM_API_BASE_URL}/{path}"


def get_user(user_id: str) -> tuple[ZoomUser, ZoomAnswer]:
    """GET /users/{userId} ("Get a user", Light). One call to Zoom.

    https://developers.zoom.us/docs/api/users/#tag/users/GET/users/{userId}
    """
    response = _call("GET", user_url(user_id))
    answer = ZoomAnswer(status=response.status_code, tracking_id=_tracking_id(response))
    return ZoomUser.from_api(_json(response)), answer


def revoke_sso_token(user_id: str) -> ZoomAnswer:
    """DELETE /users/{userId}/token ("Revoke a user's SSO token", Light). Signs the user out.

    https://developers.zoom.us/docs/api/users/#tag/users/DELETE/users/{userId}/token
    Idempotent at Zoom: revoking twice is harmless, which is what makes a retry safe.
    """
    response = _call("DELETE", user_url(user_id, "token"))
    return ZoomAnswer(status=response.status_code, tracking_id=_tracking_id(response))


@dataclass(frozen=True)
class UserPage:
    users: list[ZoomUser]
    next_page_token: str
    total_records: int | None


LIST_USERS_MAX_PAGE_SIZE = 2000  # the spec's maximum for GET /users (ZOOM_API.md 2.1)


def list_users_page(
    status: str = "active", *, page_size: int = LIST_USERS_MAX_PAGE_SIZE, next_page_token: str = ""
) -> UserPage:
    """GET /users ("List users", Medium): one page of the account's users. One call to Zoom.

    https://developers.zoom.us/docs/api/users/#tag/users/GET/users
    Pages are linked by ``next_page_token`` (valid 15 minutes); the last page's is "".
    List items carry no ``login_types``: only ``get_user`` tells SSO from not.
    """
    if status not in {"active", "inactive", "pending"}:
        raise ValueError("status must be active, inactive or pending")
    params: dict[str, Any] = {"status": status, "page_size": page_size}
    if next_page_token:
        params["next_page_token"] = next_page_token
    response = _call("GET", f"{settings.ZOOM_API_BASE_URL}/users", params=params)
    body = _json(response)
    if not isinstance(body, dict) or not isinstance(body.get("users"), list):
        raise ZoomBadResponse("Zoom sent a user list we cannot read.")
    total = body.get("total_records")
    return UserPage(
        users=[ZoomUser.from_api(item) for item in body["users"]],
        next_page_token=str(body.get("next_page_token") or ""),
        total_records=total if isinstance(total, int) else None,
    )


def _session() -> requests.Session:
    # One pooled session per thread: requests' Session is not documented thread-safe.
    session: requests.Session | None = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        session.headers["Accept"] = "application/json"
        _local.session = session
    return session


def _call(method: str, url: str, *, params: dict[str, Any] | None = None) -> requests.Response:
    token = tokens.access_token()
    response = _send(method, url, token, params)
    if response.status_code in (400, 401) and _error_code(response) == TOKEN_EXPIRED_CODE:
        # Expired or revoked (Zoom's 124 does not say which; the spec lists it under 400,
        # live Zoom answers 401): one new token, one retry.
        token = tokens.access_token(stale=token)
        response = _send(method, url, token, params)
    # Method, path (an id or email, never free text), status and Zoom's tracking id:
    # enough to match a complaint to Zoom's logs, and never a token.
    logger.info(
        "zoom %s %s -> %s %s",
        method,
        url.removeprefix(settings.ZOOM_API_BASE_URL),
        response.status_code,
        _tracking_id(response),
    )
    if response.status_code >= 400:
        raise error_from_response(response)
    return response


def _send(method: str, url: str, token: str, params: dict[str, Any] | None) -> requests.Response:
    try:
        return _session().request(
            method,
            url,
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            timeout=settings.ZOOM_TIMEOUT,
            allow_redirects=False,
        )
    except requests.exceptions.ConnectTimeout:
        raise ZoomUnreachable("Zoom could not be reached in time.") from None
    except requests.exceptions.ReadTimeout:
        raise ZoomNoAnswer(
            f"Zoom did not answer within {settings.ZOOM_TIMEOUT[1]:g} seconds."
        ) from None
    except requests.exceptions.ConnectionError as error:
        if _never_sent(error):
            raise ZoomUnreachable("Zoom could not be reached.") from None
        raise ZoomNoAnswer("The connection to Zoom broke before Zoom answered.") from None
    except requests.RequestException:
        raise ZoomNoAnswer("The request to Zoom failed before Zoom answered.") from None


def _never_sent(error: BaseException) -> bool:
    """True when the connection was never made, so Zoom cannot have acted."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return True
        name = type(current).__name__
        if name in {"NewConnectionError", "NameResolutionError", "ConnectTimeoutError"}:
            return True
        reason = getattr(current, "reason", None)
        current = (
            reason
            if isinstance(reason, BaseException)
            else (current.__cause__ or current.__context__)
        )
    return False


def _json(response: requests.Response) -> object:
    try:
        return response.json()
    except ValueError:
        raise ZoomBadResponse(
            "Zoom sent an answer we cannot read.",
            status=response.status_code,
            tracking_id=_tracking_id(response),
        ) from None


def _tracking_id(response: requests.Response) -> str:
    return response.headers.get("x-zm-trackingid", "")[:255]


def _error_body(response: requests.Response) -> tuple[int | None, str]:
    try:
        body = response.json()
    except ValueError:
        return None, ""
    if not isinstance(body, dict):
        return None, ""
    code = body.get("code")
    message = body.get("message")
    return (code if isinstance(code, int) else None), (
        message[:1000] if isinstance(message, str) else ""
    )


def _error_code(response: requests.Response) -> int | None:
    return _error_body(response)[0]


def error_from_response(response: requests.Response) -> ZoomError:
    """Map an error answer from Zoom to the exception a view knows how to explain."""
    status = response.status_code
    code, message = _error_body(response)
    details: dict[str, Any] = {
        "status": status,
        "code": code,
        "zoom_message": message,
        "tracking_id": _tracking_id(response),
    }
    said = f" Zoom said: “{message}”" if message else ""
    if status == 404:
        return ZoomUserNotFound("Zoom has no such user.", **details)
    if status == 429:
        return ZoomRateLimited("Zoom is rate limiting us.", **details)
    if status == 401:
        return ZoomAuthFailed(f"Zoom refused our access token.{said}", **details)
    if status >= 500:
        return ZoomServerError(f"Zoom had an internal error (HTTP {status}).{said}", **details)
    if 300 <= status < 400:
        return ZoomBadResponse(f"Zoom answered with an unexpected redirect ({status}).", **details)
    return ZoomRejected(f"Zoom refused the request (HTTP {status}).{said}", **details)
