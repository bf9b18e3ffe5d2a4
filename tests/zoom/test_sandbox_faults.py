"""Fault injection and the sandbox's introspection (ZOOM_API.md §7.1 "fault-injection switch")."""

from __future__ import annotations

import datetime as dt

import pytest

from zoomadmin.zoom.sandbox import (
    FAULT_ENDPOINTS,
    ManualClock,
    SandboxResponse,
    SandboxUser,
    ZoomSandbox,
)

from .conftest import BASIC
from .openapi import validate_sandbox_response


@pytest.fixture
def sandbox(clock: ManualClock) -> ZoomSandbox:
    return ZoomSandbox(user_count=50, clock=clock)


@pytest.fixture
def user_id(sandbox: ZoomSandbox) -> str:
    return next(u.id for u in sandbox.users if u.is_sso and u.signed_in and u.role_id == "2")


def call(sandbox: ZoomSandbox, method: str, path: str, body: bytes = b"") -> SandboxResponse:
    headers = {"Authorization": f"Bearer {sandbox.issue_access_token()}"}
    response = sandbox.handle("api", method, path, "", headers, body)
    if not response.reset:
        validate_sandbox_response(method, path, response.status, response.body)
    return response


def revoke(sandbox: ZoomSandbox, user_id: str) -> SandboxResponse:
    return call(sandbox, "DELETE", f"/users/{user_id}/token")


def s2s_token(sandbox: ZoomSandbox) -> SandboxResponse:
    body = b"grant_type=account_credentials&account_id=sandbox-account"
    return sandbox.handle("oauth", "POST", "/oauth/token", "", {"Authorization": BASIC}, body)


def test_a_5xx_fault_changes_nothing_and_is_used_up(sandbox: ZoomSandbox, user_id: str) -> None:
    sandbox.add_fault(endpoint="revoke", status=503)
    failed = revoke(sandbox, user_id)
    assert failed.status == 503
    assert failed.json() == {
        "code": 503,
        "message": "Service is temporarily unavailable. Try again later.",
    }
    assert failed.headers["X-RateLimit-Category"] == "Light"
    assert sandbox.revocations == []
    assert sandbox.find_user(user_id).signed_in is True  # type: ignore[union-attr]
    assert revoke(sandbox, user_id).status == 204
    assert len(sandbox.revocations) == 1


def test_faults_queue_in_order_429_then_503_then_success(
    sandbox: ZoomSandbox, user_id: str
) -> None:
    sandbox.add_fault(endpoint="revoke", status=429)
    sandbox.add_fault(endpoint="revoke", status=503)
    assert [revoke(sandbox, user_id).status for _ in range(3)] == [429, 503, 204]
    assert [r.fault for r in sandbox.requests] == [True, True, False]


def test_times_repeats_a_fault(sandbox: ZoomSandbox, user_id: str) -> None:
    sandbox.add_fault(endpoint="revoke", status=500, times=2)
    assert sandbox.state()["pending_faults"] == 2
    assert [revoke(sandbox, user_id).status for _ in range(3)] == [500, 500, 204]
    assert sandbox.state()["pending_faults"] == 0


def test_a_fault_hits_only_its_endpoint(sandbox: ZoomSandbox, user_id: str) -> None:
    sandbox.add_fault(endpoint="list_users", status=500)
    assert call(sandbox, "GET", f"/users/{user_id}").status == 200
    assert call(sandbox, "GET", "/users").status == 500


def test_a_429_fault_looks_like_zoom_qps_limiting(sandbox: ZoomSandbox, user_id: str) -> None:
    sandbox.add_fault(endpoint="revoke", status=429)
    response = revoke(sandbox, user_id)
    assert response.json() == {
        "code": 429,
        "message": "You have reached the maximum per-second rate limit for this API. "
        "Try again later.",
    }
    assert response.headers["X-RateLimit-Type"] == "QPS"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert "X-RateLimit-Reset" in response.headers
    assert "Retry-After" not in response.headers
    # A forced 429 used no quota: the next answer still has the whole window but one.
    assert revoke(sandbox, user_id).headers["X-RateLimit-Remaining"] == "29"


def test_a_daily_429_fault(sandbox: ZoomSandbox, user_id: str, clock: ManualClock) -> None:
    sandbox.add_fault(endpoint="revoke", status=429, headers={"X-RateLimit-Type": "Daily-limit"})
    response = revoke(sandbox, user_id)
    assert response.json()["message"].startswith("You have reached the maximum daily rate limit")
    assert response.headers["X-RateLimit-Type"] == "Daily-limit"
    midnight = (int(clock()) // 86_400 + 1) * 86_400
    assert response.headers["Retry-After"].endswith("T00:00:00Z")
    assert response.headers["Retry-After"][:10] == _date(midnight)


def _date(timestamp: int) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).date().isoformat()


def test_a_fault_can_name_its_code_message_and_headers(sandbox: ZoomSandbox, user_id: str) -> None:
    sandbox.add_fault(
        endpoint="update_status",
        status=400,
        code=3412,
        message="Your account has reached the maximum number of Basic users.",
        headers={"X-Extra": "yes"},
    )
    response = call(sandbox, "PUT", f"/users/{user_id}/status", b'{"action":"activate"}')
    assert response.json() == {
        "code": 3412,
        "message": "Your account has reached the maximum number of Basic users.",
    }
    assert response.headers["X-Extra"] == "yes"


def test_a_404_fault_names_the_user(sandbox: ZoomSandbox, user_id: str) -> None:
    sandbox.add_fault(endpoint="get_user", status=404)
    response = call(sandbox, "GET", f"/users/{user_id}")
    assert response.json() == {"code": 1001, "message": f"User does not exist: {user_id}."}


def test_a_fault_answers_before_authentication(sandbox: ZoomSandbox, user_id: str) -> None:
    # Like a gateway error: a 503 comes back whatever the token.
    sandbox.add_fault(endpoint="revoke", status=503)
    response = sandbox.handle("api", "DELETE", f"/users/{user_id}/token", "", {}, b"")
    assert response.status == 503


def test_a_delay_alone_is_a_late_but_real_answer(sandbox: ZoomSandbox, user_id: str) -> None:
    sandbox.add_fault(endpoint="revoke", delay=30.0)
    response = revoke(sandbox, user_id)
    assert (response.status, response.delay, response.reset) == (204, 30.0, False)
    assert len(sandbox.revocations) == 1  # it happened, even if the client gave up waiting
    assert sandbox.requests[-1].delay == 30.0


def test_a_delay_with_a_status(sandbox: ZoomSandbox, user_id: str) -> None:
    sandbox.add_fault(endpoint="revoke", delay=2.0, status=502)
    response = revoke(sandbox, user_id)
    assert (response.status, response.delay) == (502, 2.0)
    assert sandbox.revocations == []


def test_a_reset_answers_nothing_and_changes_nothing(sandbox: ZoomSandbox, user_id: str) -> None:
    sandbox.add_fault(endpoint="revoke", reset=True)
    response = revoke(sandbox, user_id)
    assert response.reset is True
    assert (response.status, response.body, response.headers) == (0, b"", {})
    assert sandbox.revocations == []
    assert sandbox.requests[-1].status is None
    assert sandbox.requests[-1].tracking_id is None


def test_a_star_fault_hits_any_endpoint(sandbox: ZoomSandbox, user_id: str) -> None:
    sandbox.add_fault(endpoint="*", status=500, times=2)
    assert s2s_token(sandbox).status == 500
    assert call(sandbox, "GET", "/users").status == 500
    assert call(sandbox, "GET", "/users").status == 200


def test_oauth_faults_use_the_oauth_error_shape(sandbox: ZoomSandbox) -> None:
    sandbox.add_fault(endpoint="token", status=503)
    response = s2s_token(sandbox)
    assert response.status == 503
    assert response.json() == {
        "reason": "Service Unavailable",
        "error": "temporarily_unavailable",
    }
    assert sandbox.token_grants == {}
    assert s2s_token(sandbox).status == 200


@pytest.mark.parametrize("status", [418, 599])
def test_unusual_statuses_still_get_error_bodies(sandbox: ZoomSandbox, status: int) -> None:
    sandbox.add_fault(endpoint="*", status=status, times=2)
    assert call(sandbox, "GET", "/users").json()["code"] == status
    oauth = s2s_token(sandbox).json()
    assert oauth["error"] == ("invalid_request" if status < 500 else "server_error")
    assert oauth["reason"] in ("I'm a Teapot", "Error")


def test_clear_faults(sandbox: ZoomSandbox, user_id: str) -> None:
    sandbox.add_fault(endpoint="revoke", status=500, times=5)
    sandbox.clear_faults()
    assert revoke(sandbox, user_id).status == 204


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"endpoint": "delete_user", "status": 500}, "unknown endpoint"),
        ({"endpoint": "revoke", "status": 500, "times": 0}, "times"),
        ({"endpoint": "revoke", "status": 200}, "status"),
        ({"endpoint": "revoke", "delay": -1.0}, "delay"),
        ({"endpoint": "revoke"}, "needs a status"),
    ],
)
def test_pointless_or_mistyped_faults_are_refused(
    sandbox: ZoomSandbox, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        sandbox.add_fault(**options)  # type: ignore[arg-type]


def test_every_documented_endpoint_name_is_accepted(sandbox: ZoomSandbox) -> None:
    assert set(FAULT_ENDPOINTS) == {
        "revoke",
        "get_user",
        "list_users",
        "update_status",
        "token",
        "authorize",
        "revoke_oauth",
        "*",
    }
    for endpoint in FAULT_ENDPOINTS:
        sandbox.add_fault(endpoint=endpoint, status=500)


# --- Introspection -------------------------------------------------------------------------------


def test_requests_are_recorded_with_endpoint_and_status(sandbox: ZoomSandbox, user_id: str) -> None:
    headers = {"Authorization": f"Bearer {sandbox.issue_access_token()}"}
    sandbox.handle("api", "GET", "/users", "page_size=5&status=active", headers, b"")
    sandbox.handle("api", "DELETE", f"/users/{user_id}/token", {}, headers, b"")
    listed, revoked = sandbox.requests
    assert (listed.host, listed.method, listed.path, listed.endpoint) == (
        "api",
        "GET",
        "/users",
        "list_users",
    )
    assert listed.query == {"page_size": ["5"], "status": ["active"]}
    assert (revoked.endpoint, revoked.status) == ("revoke", 204)
    assert revoked.tracking_id is not None
    assert revoked.tracking_id.startswith("v=2.0;clid=us01;rid=")
    assert sandbox.state()["requests"] == {"list_users": 1, "revoke": 1}


def test_clear_history_keeps_users_and_tokens(sandbox: ZoomSandbox, user_id: str) -> None:
    revoke(sandbox, user_id)
    s2s_token(sandbox)
    sandbox.clear_history()
    assert (sandbox.requests, sandbox.revocations, sandbox.token_grants) == ([], [], {})
    assert sandbox.state()["live_tokens"] == 2
    assert sandbox.state()["users"] == 50


def test_add_user_is_visible_through_the_api(sandbox: ZoomSandbox) -> None:
    added = sandbox.add_user(email="Zoë.Quinn@globex.example.com", first_name="Zoë")
    assert len(added.id) == 22
    assert (added.status, added.login_types, added.signed_in) == ("active", (101,), True)
    assert sandbox.find_user("zoë.quinn@GLOBEX.example.com") == added
    body = call(sandbox, "GET", f"/users/{added.id}").json()
    assert body["email"] == "Zoë.Quinn@globex.example.com"
    assert revoke(sandbox, added.id).status == 204
    assert sandbox.find_user(added.id).signed_in is False  # type: ignore[union-attr]


def test_add_user_refuses_duplicates_and_needs_an_email(sandbox: ZoomSandbox) -> None:
    existing = sandbox.users[3]
    with pytest.raises(ValueError, match="duplicate email"):
        sandbox.add_user(email=existing.email.upper())
    with pytest.raises(ValueError, match="duplicate user id"):
        sandbox.add_user(id=existing.id, email="new@globex.example.com")
    with pytest.raises(ValueError, match="email"):
        sandbox.add_user(first_name="Nobody")


def test_set_user_reindexes_a_changed_email(sandbox: ZoomSandbox) -> None:
    user = sandbox.users[5]
    changed = sandbox.set_user(user.email, email="renamed@globex.example.com", dept="Legal")
    assert sandbox.find_user(user.email) is None
    assert sandbox.find_user("renamed@globex.example.com") == changed
    assert sandbox.find_user(user.id) == changed
    with pytest.raises(ValueError, match="duplicate"):
        sandbox.set_user(user.id, email=sandbox.users[6].email)
    assert sandbox.find_user(user.id) == changed
    with pytest.raises(KeyError):
        sandbox.set_user("nobody", dept="x")


def test_users_can_be_given_instead_of_seeded(clock: ManualClock) -> None:
    cast = [
        SandboxUser(id="aaaaaaaaaaaaaaaaaaaaaa", email="a@x.example.com", first_name="A"),
        SandboxUser(id="bbbbbbbbbbbbbbbbbbbbbb", email="b@x.example.com", login_types=(100,)),
    ]
    sandbox = ZoomSandbox(users=cast, clock=clock)
    assert sandbox.users == cast
    with pytest.raises(ValueError, match="duplicate"):
        ZoomSandbox(users=[cast[0], cast[0]])
