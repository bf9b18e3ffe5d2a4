"""Zoom's REST API, one function per endpoint we use.

Reference: https://developers.zoom.us/docs/api/users/ (Zoom's OpenAPI copy is
tests/zoom/users-openapi.json). How a call is paced, bounded and retried is in
``transport``; every failure is a ``ZoomError`` subclass (``errors``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings
from django.utils.dateparse import parse_datetime

from zoomadmin.zoom.errors import ZoomBadResponse, tracking_id
from zoomadmin.zoom.ids import is_user_reference
from zoomadmin.zoom.transport import Deadline, Endpoint, call, json_body

SSO_LOGIN_TYPE = 101
LIST_USERS_MAX_PAGE_SIZE = 2000  # the spec's maximum for GET /users (ZOOM_API.md 2.1)

# Rate-limit categories from the spec's "Rate Limit Label" of each operation.
GET_USER = Endpoint("get_user", "light")
REVOKE_SSO_TOKEN = Endpoint("revoke", "light")
LIST_USERS = Endpoint("list_users", "medium")


# Treat as read-only. Not frozen: a sync builds 2,000 a page, and a frozen dataclass
# costs four times as much to build (object.__setattr__ per field).
@dataclass(slots=True)
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
        # Called for every user of a 2,000-user list page: kept lean.
        get = data.get if isinstance(data, dict) else None
        email = get("email") if get else None
        if get is None or not isinstance(email, str):
            raise ZoomBadResponse("Zoom sent a user without an email address.")
        login_types = get("login_types")
        last_login = get("last_login_time")
        try:
            return cls(
                id=str(get("id") or ""),
                email=email,
                first_name=str(get("first_name") or ""),
                last_name=str(get("last_name") or ""),
                display_name=str(get("display_name") or ""),
                status=str(get("status") or "active"),
                type=int(get("type") or 0),
                dept=str(get("dept") or ""),
                # List items carry none: skip building an empty tuple the long way.
                login_types=tuple(t for t in login_types if isinstance(t, int))
                if login_types
                else (),
                last_login_time=parse_datetime(last_login) if isinstance(last_login, str) else None,
                role_id=str(get("role_id") or ""),
            )
        except (TypeError, ValueError):
            raise ZoomBadResponse("Zoom sent a user record we cannot read.") from None


@dataclass(frozen=True)
class ZoomAnswer:
    status: int
    tracking_id: str


@dataclass(frozen=True)
class UserPage:
    users: list[ZoomUser]
    next_page_token: str
    total_records: int | None


def user_url(user_id: str, *suffix: str) -> str:
    """The one place a user's URL is built: ``/users/{userId}`` plus an optional suffix.

    ``DELETE /users/{userId}`` deletes the Zoom account while ``/users/{userId}/token``
    only signs it out, so callers name the suffix and tests pin the exact path.
    """
    if not is_user_reference(user_id):
        raise ValueError("not a Zoom user id or email address")
    path = "/".join(["users", quote(user_id, safe="@+"), *suffix])
    return f"{settings.ZOOM_API_BASE_URL}/{path}"


def _answer(response: requests.Response) -> ZoomAnswer:
    return ZoomAnswer(status=response.status_code, tracking_id=tracking_id(response))


def get_user(user_id: str, *, deadline: Deadline | None = None) -> tuple[ZoomUser, ZoomAnswer]:
    """GET /users/{userId} ("Get a user", Light). Calls Zoom, retrying within the deadline.

    https://developers.zoom.us/docs/api/users/#tag/users/GET/users/{userId}
    """
    user, response = call(
        GET_USER,
        "GET",
        user_url(user_id),
        lambda r: ZoomUser.from_api(json_body(r)),
        deadline=deadline,
    )
    return user, _answer(response)


def revoke_sso_token(user_id: str, *, deadline: Deadline | None = None) -> ZoomAnswer:
    """DELETE /users/{userId}/token ("Revoke a user's SSO token", Light). Signs the user out.

    https://developers.zoom.us/docs/api/users/#tag/users/DELETE/users/{userId}/token
    Idempotent at Zoom (revoking twice is harmless), which is what makes its retries safe.
    """
    _, response = call(
        REVOKE_SSO_TOKEN, "DELETE", user_url(user_id, "token"), lambda r: None, deadline=deadline
    )
    return _answer(response)


def list_users_page(
    status: str = "active",
    *,
    page_size: int = LIST_USERS_MAX_PAGE_SIZE,
    next_page_token: str = "",
    deadline: Deadline | None = None,
) -> UserPage:
    """GET /users ("List users", Medium): one page of the account's users. Calls Zoom.

    https://developers.zoom.us/docs/api/users/#tag/users/GET/users
    Pages are linked by ``next_page_token`` (valid 15 minutes); the last page's is "".
    List items carry no ``login_types``: only ``get_user`` tells SSO from not.
    """
    if status not in {"active", "inactive", "pending"}:
        raise ValueError("status must be active, inactive or pending")
    params: dict[str, Any] = {"status": status, "page_size": page_size}
    if next_page_token:
        params["next_page_token"] = next_page_token
    page, _ = call(
        LIST_USERS,
        "GET",
        f"{settings.ZOOM_API_BASE_URL}/users",
        _parse_user_page,
        params=params,
        deadline=deadline,
    )
    return page


def _parse_user_page(response: requests.Response) -> UserPage:
    body = json_body(response)
    if not isinstance(body, dict) or not isinstance(body.get("users"), list):
        raise ZoomBadResponse("Zoom sent a user list we cannot read.")
    total = body.get("total_records")
    return UserPage(
        users=[ZoomUser.from_api(item) for item in body["users"]],
        next_page_token=str(body.get("next_page_token") or ""),
        total_records=total if isinstance(total, int) else None,
    )
