"""The sandbox core's API host: auth, users, revoke, list, status, rate limits (ZOOM_API.md §7).

Every answer to an operation of Zoom's spec is checked against the spec, and every request
the tests mean to be valid is checked as a request too.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from typing import Any

import pytest

from zoomadmin.zoom.sandbox import ManualClock, SandboxResponse, SandboxUser, ZoomSandbox

from .openapi import SpecViolation, validate_request, validate_sandbox_response

TRACKING_ID = re.compile(r"^v=2\.0;clid=us01;rid=\S+$")


class Zoom:
    """Calls the sandbox core the way a client calls Zoom, and checks answers against the spec."""

    def __init__(self, sandbox: ZoomSandbox) -> None:
        self.sandbox = sandbox
        self.token = sandbox.issue_access_token()

    def api(
        self,
        method: str,
        path: str,
        query: str = "",
        *,
        token: str | None = None,
        anonymous: bool = False,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        valid_request: bool = True,
    ) -> SandboxResponse:
        sent = dict(headers or {})
        if not anonymous:
            sent["Authorization"] = f"Bearer {token or self.token}"
        if valid_request:
            validate_request(method, f"/v2{path}?{query}", body or None)
        response = self.sandbox.handle("api", method, path, query, sent, body)
        self.check(method, path, response)
        return response

    def raw(self, method: str, path: str) -> SandboxResponse:
        """An unchecked call, for loops that make thousands of them."""
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.sandbox.handle("api", method, path, "", headers, b"")

    @staticmethod
    def check(method: str, path: str, response: SandboxResponse) -> None:
        try:
            validate_sandbox_response(method, path, response.status, response.body)
        except SpecViolation as error:
            if "matches no path template" not in str(error) and "is not defined" not in str(error):
                raise


def error_of(response: SandboxResponse) -> tuple[int, int, str]:
    body = response.json()
    assert response.headers["Content-Type"] == "application/json"
    return response.status, body["code"], body["message"]


def first(sandbox: ZoomSandbox, **wanted: Any) -> SandboxUser:
    """The first user whose fields have the wanted values (``is_sso`` too)."""
    return next(
        user
        for user in sandbox.users
        if all(getattr(user, name) == value for name, value in wanted.items())
        and user.role_id == "2"  # members: admins and the owner refuse status changes
    )


@pytest.fixture
def sandbox(clock: ManualClock) -> ZoomSandbox:
    return ZoomSandbox(user_count=150, clock=clock)


@pytest.fixture
def zoom(sandbox: ZoomSandbox) -> Zoom:
    return Zoom(sandbox)


# --- Auth, in the order of §7.1 ------------------------------------------------------------------


def test_access_token_in_query_is_refused_before_anything_else(zoom: Zoom) -> None:
    response = zoom.api(
        "GET", "/users", f"access_token={zoom.token}", token=zoom.token, valid_request=False
    )
    assert error_of(response) == (
        401,
        124,
        "Invalid access token, this access token is not supported as query parameter string.",
    )


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer not-a-token", "Basic c2FuZGJveC1jbGllbnQ6c2FuZGJveC1zZWNyZXQ="],
)
def test_missing_or_unknown_bearer_is_an_invalid_token(
    zoom: Zoom, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = zoom.api("GET", "/users", anonymous=True, headers=headers)
    assert error_of(response) == (401, 124, "Invalid access token.")


def test_token_expires_after_its_ttl(zoom: Zoom, clock: ManualClock) -> None:
    clock.advance(3599)
    assert zoom.api("GET", "/users").status == 200
    clock.advance(1)
    assert error_of(zoom.api("GET", "/users")) == (401, 124, "Access token is expired.")


def test_expired_token_status_can_follow_the_spec_instead(clock: ManualClock) -> None:
    zoom = Zoom(ZoomSandbox(user_count=5, clock=clock, expired_token_status=400))
    zoom.sandbox.expire_access_tokens()
    assert error_of(zoom.api("GET", "/users")) == (400, 124, "Access token is expired.")


@pytest.mark.parametrize(
    ("method", "path", "listed"),
    [
        ("GET", "/users", "user:read:list_users:admin"),
        ("GET", "/users/{id}", "user:read:user, user:read:user:admin"),
        ("DELETE", "/users/{id}/token", "user:delete:token, user:delete:token:admin"),
        ("PUT", "/users/{id}/status", "user:update:status, user:update:status:admin"),
    ],
)
def test_token_without_an_accepted_scope_gets_4711(
    sandbox: ZoomSandbox, method: str, path: str, listed: str
) -> None:
    zoom = Zoom(sandbox)
    zoom.token = sandbox.issue_access_token(scopes=("meeting:read:admin",))
    user = first(sandbox, status="active")
    body = b'{"action":"deactivate"}' if method == "PUT" else b""
    response = zoom.api(method, path.format(id=user.id), body=body)
    message = f"Invalid access token, does not contain scopes:[{listed}]."
    assert error_of(response) == (400, 4711, message)
    assert user.signed_in == sandbox.find_user(user.id).signed_in  # type: ignore[union-attr]
    assert sandbox.revocations == []


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("GET", "/users", "user:read:list_users:admin"),
        ("GET", "/users", "user:read"),
        ("GET", "/users/{id}", "user:read:user:admin"),
        ("GET", "/users/{id}", "user_profile"),
        ("DELETE", "/users/{id}/token", "user:delete:token:admin"),
        ("DELETE", "/users/{id}/token", "user:delete:token:master"),
        ("DELETE", "/users/{id}/token", "user:write"),
        ("PUT", "/users/{id}/status", "user:update:status:admin"),
    ],
)
def test_any_one_of_the_endpoints_scopes_is_enough(
    sandbox: ZoomSandbox, method: str, path: str, scope: str
) -> None:
    zoom = Zoom(sandbox)
    zoom.token = sandbox.issue_access_token(scopes=("meeting:read:admin", scope))
    body = b'{"action":"deactivate"}' if method == "PUT" else b""
    response = zoom.api(method, path.format(id=first(sandbox, status="active").id), body=body)
    assert response.status in (200, 204)


def test_user_info_read_scope_counts_only_for_me(sandbox: ZoomSandbox) -> None:
    zoom = Zoom(sandbox)
    zoom.token = sandbox.issue_access_token(scopes=("user_info:read",))
    response = zoom.api("GET", f"/users/{first(sandbox, status='active').id}")
    assert error_of(response)[:2] == (400, 4711)
    # An S2S token has no user behind `me` (§7.1 CONFLICT, resolved to 404).
    assert error_of(zoom.api("GET", "/users/me")) == (404, 1001, "User does not exist: me.")


def test_unknown_endpoint_is_checked_for_auth_first(zoom: Zoom) -> None:
    assert error_of(zoom.api("GET", "/meetings", anonymous=True, valid_request=False))[0] == 401
    response = zoom.api("GET", "/meetings", valid_request=False)
    assert error_of(response) == (404, 2300, "This API endpoint is not recognized.")


# --- Endpoints that must never be used -----------------------------------------------------------


def test_delete_user_is_not_implemented_but_recorded(zoom: Zoom, sandbox: ZoomSandbox) -> None:
    user = first(sandbox, status="active")
    response = zoom.api("DELETE", f"/users/{user.id}")
    assert error_of(response) == (404, 2300, "This API endpoint is not recognized.")
    assert sandbox.find_user(user.id) == user
    assert [r.endpoint for r in sandbox.requests] == ["delete_user"]
    assert sandbox.requests[0].method == "DELETE"
    assert sandbox.revocations == []


def test_get_user_token_is_a_different_operation(zoom: Zoom, sandbox: ZoomSandbox) -> None:
    user = first(sandbox, status="active")
    response = zoom.api("GET", f"/users/{user.id}/token")
    assert error_of(response) == (404, 2300, "This API endpoint is not recognized.")
    assert sandbox.requests[-1].endpoint == "get_user_token"
    assert sandbox.revocations == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/users/email"),
        ("GET", "/users/summary"),
        ("PATCH", "/users/{id}"),
        ("POST", "/users"),
        ("GET", "/users/"),
        ("GET", "/users/{id}/token/extra"),
        ("GET", "/"),
    ],
)
def test_other_paths_are_not_recognized(
    zoom: Zoom, sandbox: ZoomSandbox, method: str, path: str
) -> None:
    path = path.format(id=first(sandbox, status="active").id)
    response = zoom.api(method, path, valid_request=False)
    assert error_of(response) == (404, 2300, "This API endpoint is not recognized.")


# --- GET /users/{userId} (§7.4) ------------------------------------------------------------------


def test_get_user_by_id_returns_the_full_profile(zoom: Zoom, sandbox: ZoomSandbox) -> None:
    user = first(sandbox, status="active", is_sso=True)
    body = zoom.api("GET", f"/users/{user.id}").json()
    assert body["id"] == user.id
    assert body["email"] == user.email
    assert body["login_types"] == [101]
    assert body["account_id"] == "sandbox-account"
    assert body["employee_unique_id"] == user.employee_unique_id


def test_get_user_by_email_ignores_case(zoom: Zoom, sandbox: ZoomSandbox) -> None:
    user = first(sandbox, status="active")
    assert zoom.api("GET", f"/users/{user.email.upper()}").json()["id"] == user.id
    encoded = user.email.replace("@", "%40")
    assert zoom.api("GET", f"/users/{encoded}").json()["id"] == user.id


def test_unknown_user_is_1001(zoom: Zoom) -> None:
    response = zoom.api("GET", "/users/nobody@example.com")
    assert error_of(response) == (404, 1001, "User does not exist: nobody@example.com.")


def test_encoded_slash_stays_in_the_user_id(zoom: Zoom) -> None:
    response = zoom.api("GET", "/users/a%2Fb", valid_request=False)
    assert error_of(response) == (404, 1001, "User does not exist: a/b.")


def test_pending_user_can_be_fetched_by_email(zoom: Zoom, sandbox: ZoomSandbox) -> None:
    user = first(sandbox, status="pending")
    body = zoom.api("GET", f"/users/{user.email}").json()
    assert body["status"] == "pending"
    assert body["id"] == user.id
    assert "last_login_time" not in body


def test_search_by_unique_id_matches_employee_unique_id(zoom: Zoom, sandbox: ZoomSandbox) -> None:
    user = first(sandbox, status="active", is_sso=True)
    assert user.employee_unique_id
    response = zoom.api("GET", f"/users/{user.employee_unique_id}", "search_by_unique_id=true")
    assert response.json()["id"] == user.id
    response = zoom.api("GET", f"/users/{user.employee_unique_id}", "search_by_unique_id=false")
    assert response.status == 404


def test_login_type_must_be_one_of_the_users(zoom: Zoom, sandbox: ZoomSandbox) -> None:
    user = first(sandbox, status="active", is_sso=True)
    assert zoom.api("GET", f"/users/{user.id}", "login_type=101").status == 200
    assert error_of(zoom.api("GET", f"/users/{user.id}", "login_type=100"))[:2] == (404, 1001)


@pytest.mark.parametrize("query", ["encrypted_email=yes", "login_type=sso"])
def test_badly_typed_get_user_parameters_fail_validation(
    zoom: Zoom, sandbox: ZoomSandbox, query: str
) -> None:
    response = zoom.api("GET", f"/users/{first(sandbox).id}", query, valid_request=False)
    assert error_of(response) == (400, 300, "Validation Failed.")
    assert response.json()["errors"][0]["message"] == "Invalid field."


# --- DELETE /users/{userId}/token (§7.2) ---------------------------------------------------------


def test_revoke_signs_an_sso_user_out_and_records_it(
    zoom: Zoom, sandbox: ZoomSandbox, clock: ManualClock
) -> None:
    user = first(sandbox, status="active", is_sso=True, signed_in=True)
    response = zoom.api("DELETE", f"/users/{user.id}/token")
    assert (response.status, response.body) == (204, b"")
    assert "Content-Type" not in response.headers
    [revocation] = sandbox.revocations
    assert (revocation.user_id, revocation.email, revocation.sso) == (user.id, user.email, True)
    assert revocation.at == clock()
    assert revocation.token_id == "at-1"
    assert sandbox.find_user(user.id).signed_in is False  # type: ignore[union-attr]


def test_revoke_by_email_and_again_is_idempotent(zoom: Zoom, sandbox: ZoomSandbox) -> None:
    user = first(sandbox, status="active", is_sso=True)
    assert zoom.api("DELETE", f"/users/{user.email.title()}/token").status == 204
    assert zoom.api("DELETE", f"/users/{user.id}/token").status == 204
    assert [r.user_id for r in sandbox.revocations] == [user.id, user.id]


def test_revoke_for_a_non_sso_user_is_204_without_effect(zoom: Zoom, sandbox: ZoomSandbox) -> None:
    user = first(sandbox, status="active", is_sso=False, signed_in=True)
    assert zoom.api("DELETE", f"/users/{user.id}/token").status == 204
    assert sandbox.revocations[0].sso is False
    assert sandbox.find_user(user.id).signed_in is True  # type: ignore[union-attr]


def test_revoke_for_a_non_sso_user_can_be_an_error(clock: ManualClock) -> None:
    sandbox = ZoomSandbox(user_count=60, clock=clock, non_sso_revoke_error=True)
    zoom = Zoom(sandbox)
    user = first(sandbox, status="active", is_sso=False)
    status, code, _ = error_of(zoom.api("DELETE", f"/users/{user.id}/token"))
    assert (status, code) == (400, 300)
    assert sandbox.revocations == []
    sso_user = first(sandbox, status="active", is_sso=True)
    assert zoom.api("DELETE", f"/users/{sso_user.id}/token").status == 204


def test_revoke_for_an_unknown_user_is_1001_and_not_recorded(
    zoom: Zoom, sandbox: ZoomSandbox
) -> None:
    response = zoom.api("DELETE", "/users/ghost@globex.example.com/token")
    assert error_of(response) == (404, 1001, "User does not exist: ghost@globex.example.com.")
    assert sandbox.revocations == []


# --- PUT /users/{userId}/status (§7.5) -----------------------------------------------------------


def test_deactivate_then_activate(zoom: Zoom, sandbox: ZoomSandbox) -> None:
    user = first(sandbox, status="active", signed_in=True)
    response = zoom.api("PUT", f"/users/{user.id}/status", body=b'{"action":"deactivate"}')
    assert (response.status, response.body) == (204, b"")
    changed = sandbox.find_user(user.id)
    assert changed is not None
    assert (changed.status, changed.signed_in) == ("inactive", False)
    zoom.api("PUT", f"/users/{user.email}/status", body=b'{"action":"activate"}')
    assert sandbox.find_user(user.id).status == "active"  # type: ignore[union-attr]


def test_status_update_can_answer_200_like_the_current_spec(clock: ManualClock) -> None:
    sandbox = ZoomSandbox(user_count=20, clock=clock, status_update_code=200)
    zoom = Zoom(sandbox)
    user = first(sandbox, status="active")
    response = zoom.api("PUT", f"/users/{user.id}/status", body=b'{"action":"deactivate"}')
    assert (response.status, response.body) == (200, b"")


def test_clock_in_changes_nothing(zoom: Zoom, sandbox: ZoomSandbox) -> None:
    user = first(sandbox, status="active")
    assert zoom.api("PUT", f"/users/{user.id}/status", body=b'{"action":"clock_in"}').status == 204
    assert sandbox.find_user(user.id) == user


def test_admins_and_the_owner_cannot_change_status(zoom: Zoom, sandbox: ZoomSandbox) -> None:
    owner = next(u for u in sandbox.users if u.role_id == "0")
    response = zoom.api("PUT", f"/users/{owner.id}/status", body=b'{"action":"deactivate"}')
    message = "Zoom Room and Admin users' status cannot be activated or deactivated."
    assert error_of(response) == (400, 200, message)
    assert sandbox.find_user(owner.id) == owner


@pytest.mark.parametrize("body", [b'{"action":"delete"}', b"{}", b"[]", b""])
def test_a_bad_action_fails_validation(zoom: Zoom, sandbox: ZoomSandbox, body: bytes) -> None:
    path = f"/users/{first(sandbox, status='active').id}/status"
    response = zoom.api("PUT", path, body=body, valid_request=False)
    assert error_of(response) == (400, 300, "Validation Failed.")
    assert response.json()["errors"] == [{"field": "action", "message": "Invalid field."}]


def test_a_body_that_is_not_json_is_refused(zoom: Zoom, sandbox: ZoomSandbox) -> None:
    path = f"/users/{first(sandbox, status='active').id}/status"
    response = zoom.api("PUT", path, body=b"action=deactivate", valid_request=False)
    assert error_of(response)[:2] == (400, 300)


def test_status_of_an_unknown_user_is_1001(zoom: Zoom) -> None:
    response = zoom.api("PUT", "/users/nope/status", body=b'{"action":"deactivate"}')
    assert error_of(response)[:2] == (404, 1001)


# --- GET /users (§7.3) ---------------------------------------------------------------------------


def test_list_defaults_to_active_users_and_30_per_page(zoom: Zoom, sandbox: ZoomSandbox) -> None:
    body = zoom.api("GET", "/users").json()
    active = [u for u in sandbox.users if u.status == "active"]
    assert body["page_size"] == 30
    assert body["page_number"] == 1
    assert body["total_records"] == len(active)
    assert body["page_count"] == -(-len(active) // 30)
    assert [u["id"] for u in body["users"]] == [u.id for u in active[:30]]
    assert body["next_page_token"]


def test_list_walks_every_page_once(zoom: Zoom, sandbox: ZoomSandbox) -> None:
    seen: list[str] = []
    query = "status=active&page_size=40"
    numbers = []
    while True:
        body = zoom.api("GET", "/users", query).json()
        seen += [u["id"] for u in body["users"]]
        numbers.append(body["page_number"])
        if body["next_page_token"] == "":
            break
        query = f"next_page_token={body['next_page_token']}"
    assert seen == [u.id for u in sandbox.users if u.status == "active"]
    assert numbers == list(range(1, len(numbers) + 1))
    assert len(numbers) == body["page_count"]


def test_list_cursor_survives_a_status_change_between_pages(
    zoom: Zoom, sandbox: ZoomSandbox
) -> None:
    page = zoom.api("GET", "/users", "page_size=10").json()
    sandbox.set_user(page["users"][0]["id"], status="inactive")
    rest = zoom.api("GET", "/users", f"next_page_token={page['next_page_token']}&page_size=500")
    ids = [u["id"] for u in page["users"] + rest.json()["users"]]
    assert len(ids) == len(set(ids))
    assert set(ids) >= {u.id for u in sandbox.users if u.status == "active"}


@pytest.mark.parametrize("status", ["inactive", "pending"])
def test_list_filters_by_status(zoom: Zoom, sandbox: ZoomSandbox, status: str) -> None:
    body = zoom.api("GET", "/users", f"status={status}&page_size=2000").json()
    expected = [u for u in sandbox.users if u.status == status]
    assert body["total_records"] == len(expected) > 0
    assert {u["email"] for u in body["users"]} == {u.email for u in expected}
    assert all(("id" in u) == (status != "pending") for u in body["users"])
    assert body["next_page_token"] == ""


def test_list_items_have_no_login_types(zoom: Zoom) -> None:
    assert all("login_types" not in u for u in zoom.api("GET", "/users").json()["users"])


def test_list_filters_by_role(zoom: Zoom, sandbox: ZoomSandbox) -> None:
    body = zoom.api("GET", "/users", "role_id=0").json()
    assert [u["role_id"] for u in body["users"]] == ["0"]


def test_list_includes_extra_fields_only_when_asked(zoom: Zoom) -> None:
    plain = zoom.api("GET", "/users", "page_size=5").json()["users"]
    assert all("host_key" not in u and "custom_attributes" not in u for u in plain)
    keyed = zoom.api("GET", "/users", "page_size=5&include_fields=host_key").json()["users"]
    assert all(re.fullmatch(r"\d{6}", u["host_key"]) for u in keyed)
    custom = zoom.api("GET", "/users", "page_size=5&include_fields=custom_attributes").json()
    assert custom["users"][0]["custom_attributes"][0]["name"] == "Cost center"


def test_list_honours_the_deprecated_page_number(zoom: Zoom, sandbox: ZoomSandbox) -> None:
    body = zoom.api("GET", "/users", "page_size=10&page_number=3").json()
    active = [u.id for u in sandbox.users if u.status == "active"]
    assert body["page_number"] == 3
    assert [u["id"] for u in body["users"]] == active[20:30]


def test_list_with_no_match_is_an_empty_last_page(zoom: Zoom) -> None:
    body = zoom.api("GET", "/users", "license=zoom_compliance_management").json()
    assert body == {
        "next_page_token": "",
        "page_count": 0,
        "page_number": 1,
        "page_size": 30,
        "total_records": 0,
        "users": [],
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=deleted", "status"),
        ("page_size=2001", "page_size"),
        ("page_size=0", "page_size"),
        ("page_size=many", "page_size"),
        ("include_fields=password", "include_fields"),
        ("page_number=0", "page_number"),
    ],
)
def test_list_parameters_are_validated(zoom: Zoom, query: str, field: str) -> None:
    response = zoom.api("GET", "/users", query, valid_request=False)
    assert error_of(response) == (400, 300, "Validation Failed.")
    assert response.json()["errors"] == [{"field": field, "message": "Invalid field."}]


def test_list_accepts_the_largest_page_size(zoom: Zoom) -> None:
    body = zoom.api("GET", "/users", "page_size=2000").json()
    assert body["page_size"] == 2000
    assert body["next_page_token"] == ""


def test_page_token_expires_after_15_minutes(zoom: Zoom, clock: ManualClock) -> None:
    token = zoom.api("GET", "/users", "page_size=10").json()["next_page_token"]
    clock.advance(15 * 60 - 1)
    assert zoom.api("GET", "/users", f"next_page_token={token}").status == 200
    clock.advance(1)
    response = zoom.api("GET", "/users", f"next_page_token={token}")
    assert error_of(response) == (400, 300, "The next page token is invalid or expired.")


def test_made_up_page_token_is_invalid(zoom: Zoom) -> None:
    response = zoom.api("GET", "/users", "next_page_token=IAfJX3jsOLW7w3dokmFl84zOa0MAVGyMEB2")
    assert error_of(response) == (400, 300, "The next page token is invalid or expired.")


# --- Headers on every API response (§7.1) --------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "anonymous"),
    [("/users", False), ("/users", True), ("/users/nobody", False), ("/x", False)],
)
def test_every_api_response_carries_tracking_and_rate_limit_headers(
    zoom: Zoom, path: str, anonymous: bool
) -> None:
    response = zoom.api("GET", path, anonymous=anonymous, valid_request=False)
    assert TRACKING_ID.match(response.headers["x-zm-trackingid"])
    assert response.headers["X-RateLimit-Type"] == "QPS"
    assert response.headers["X-RateLimit-Category"] in ("Light", "Medium")
    assert int(response.headers["X-RateLimit-Limit"]) >= int(
        response.headers["X-RateLimit-Remaining"]
    )


def test_tracking_ids_differ(zoom: Zoom) -> None:
    ids = {zoom.api("GET", "/users").headers["x-zm-trackingid"] for _ in range(5)}
    assert len(ids) == 5


def test_remaining_counts_down_per_category(zoom: Zoom, sandbox: ZoomSandbox) -> None:
    listed = [zoom.api("GET", "/users").headers for _ in range(3)]
    assert [h["X-RateLimit-Remaining"] for h in listed] == ["19", "18", "17"]
    assert {h["X-RateLimit-Category"] for h in listed} == {"Medium"}
    got = zoom.api("GET", f"/users/{first(sandbox).id}").headers
    assert (got["X-RateLimit-Category"], got["X-RateLimit-Limit"]) == ("Light", "30")
    assert got["X-RateLimit-Remaining"] == "29"


# --- Rate limits (§4, §7.1) ----------------------------------------------------------------------


def free_zoom(clock: ManualClock, **options: Any) -> Zoom:
    return Zoom(ZoomSandbox(user_count=20, clock=clock, plan="free", **options))


def test_qps_limit_admits_n_then_429_until_the_window_slides(clock: ManualClock) -> None:
    zoom = free_zoom(clock)
    path = f"/users/{zoom.sandbox.users[1].id}"
    accepted = [zoom.api("GET", path).status for _ in range(4)]  # free: Light 4/s
    assert accepted == [200, 200, 200, 200]
    limited = zoom.api("GET", path)
    assert error_of(limited) == (
        429,
        429,
        "You have reached the maximum per-second rate limit for this API. Try again later.",
    )
    assert limited.headers["X-RateLimit-Type"] == "QPS"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert limited.headers["X-RateLimit-Reset"] == str(int(clock()) + 1)
    assert "Retry-After" not in limited.headers
    clock.advance(0.999)
    assert zoom.api("GET", path).status == 429
    clock.advance(0.001)
    assert zoom.api("GET", path).status == 200


def test_the_window_slides_rather_than_resetting_each_second(clock: ManualClock) -> None:
    zoom = free_zoom(clock)
    path = f"/users/{zoom.sandbox.users[1].id}"
    zoom.api("GET", path)  # t=0
    clock.advance(0.5)
    assert [zoom.api("GET", path).status for _ in range(4)] == [200, 200, 200, 429]
    clock.advance(0.5)  # t=1.0: the t=0 request left the window, the three at 0.5 did not
    assert [zoom.api("GET", path).status for _ in range(2)] == [200, 429]


def test_rejected_requests_consume_nothing(clock: ManualClock) -> None:
    zoom = free_zoom(clock)
    path = f"/users/{zoom.sandbox.users[1].id}"
    for _ in range(4):
        zoom.api("GET", path)
    clock.advance(0.9)
    assert {zoom.api("GET", path).status for _ in range(50)} == {429}
    clock.advance(0.1)
    assert [zoom.api("GET", path).status for _ in range(5)] == [200] * 4 + [429]


def test_categories_have_separate_windows(clock: ManualClock) -> None:
    zoom = free_zoom(clock)
    assert [zoom.api("GET", "/users").status for _ in range(3)] == [200, 200, 429]  # Medium 2
    assert zoom.api("GET", f"/users/{zoom.sandbox.users[1].id}").status == 200


def test_no_second_ever_holds_more_than_the_limit(clock: ManualClock) -> None:
    zoom = free_zoom(clock)
    path = f"/users/{zoom.sandbox.users[1].id}"
    rng = random.Random(3)
    accepted: list[float] = []
    for _ in range(400):
        clock.advance(rng.choice([0.0, 0.01, 0.1, 0.3]))
        if zoom.raw("GET", path).status == 200:
            accepted.append(clock())
    for index, start in enumerate(accepted):
        inside = [t for t in accepted[index:] if t < start + 1.0]
        assert len(inside) <= 4
    assert len(accepted) > 100


def test_business_plan_81st_light_call_in_a_second_is_429(clock: ManualClock) -> None:
    zoom = Zoom(ZoomSandbox(user_count=5, clock=clock, plan="business"))
    path = f"/users/{zoom.sandbox.users[1].id}"
    statuses = [zoom.api("GET", path).status for _ in range(81)]
    assert statuses == [200] * 80 + [429]


def test_rate_limits_can_be_overridden(clock: ManualClock) -> None:
    zoom = Zoom(ZoomSandbox(user_count=5, clock=clock, rate_limits={"light": 2}))
    path = f"/users/{zoom.sandbox.users[1].id}"
    assert [zoom.api("GET", path).status for _ in range(3)] == [200, 200, 429]
    assert zoom.api("GET", "/users").headers["X-RateLimit-Limit"] == "20"


def test_bad_rate_limit_overrides_are_refused() -> None:
    with pytest.raises(ValueError, match="rate_limits"):
        ZoomSandbox(user_count=1, rate_limits={"ultra": 5})
    with pytest.raises(ValueError, match="plan"):
        ZoomSandbox(user_count=1, plan="enterprise")  # type: ignore[arg-type]


def test_free_plan_daily_limit_ends_with_an_iso_retry_after(clock: ManualClock) -> None:
    zoom = free_zoom(clock)
    path = f"/users/{zoom.sandbox.users[1].id}"
    zoom.token = zoom.sandbox.issue_access_token(ttl=86_400)
    for _ in range(6000):  # free: Light 6,000/day (§4)
        clock.advance(0.26)
        assert zoom.raw("GET", path).status == 200
    clock.advance(0.26)
    limited = zoom.raw("GET", path)
    Zoom.check("GET", path, limited)
    assert error_of(limited) == (
        429,
        429,
        "You have reached the maximum daily rate limit for this API. "
        "Refer to the response header for details on when you can make another request.",
    )
    midnight = (int(clock()) // 86_400 + 1) * 86_400
    assert limited.headers["X-RateLimit-Type"] == "Daily-limit"
    assert limited.headers["X-RateLimit-Limit"] == "6000"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert limited.headers["Retry-After"] == _iso(midnight)
    clock.advance(midnight - clock())  # 00:00:00Z: every counter resets
    assert zoom.raw("GET", path).status == 200


def test_daily_limits_can_be_overridden(clock: ManualClock) -> None:
    zoom = Zoom(ZoomSandbox(user_count=5, clock=clock, daily_limits={"medium": 2}))
    statuses = []
    for _ in range(3):
        clock.advance(2)
        statuses.append(zoom.api("GET", "/users").status)
    assert statuses == [200, 200, 429]


def _iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
