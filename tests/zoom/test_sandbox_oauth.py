"""The sandbox core's OAuth host: token grants, authorize, revoke (ZOOM_API.md §3, §7.8-§7.10)."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from zoomadmin.zoom.sandbox import ManualClock, SandboxResponse, ZoomSandbox

from .conftest import BASIC
from .openapi import validate_sandbox_response

REDIRECT = "http://127.0.0.1:8000/zoom/callback"


@pytest.fixture
def sandbox(clock: ManualClock) -> ZoomSandbox:
    return ZoomSandbox(user_count=40, clock=clock)


def post(
    sandbox: ZoomSandbox,
    path: str,
    form: dict[str, str],
    *,
    auth: str | None = BASIC,
    query: str = "",
) -> SandboxResponse:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if auth is not None:
        headers["Authorization"] = auth
    return sandbox.handle("oauth", "POST", path, query, headers, urlencode(form).encode())


def token(sandbox: ZoomSandbox, **form: str) -> SandboxResponse:
    return post(sandbox, "/oauth/token", form)


def s2s(sandbox: ZoomSandbox) -> str:
    response = token(sandbox, grant_type="account_credentials", account_id="sandbox-account")
    assert response.status == 200
    value: str = response.json()["access_token"]
    return value


def api_status(sandbox: ZoomSandbox, access_token: str, path: str = "/users") -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {access_token}"}
    response = sandbox.handle("api", "GET", path, "", headers, b"")
    validate_sandbox_response("GET", path, response.status, response.body)
    return response.status, response.json()


def authorize(sandbox: ZoomSandbox, **extra: str) -> SandboxResponse:
    params = {
        "response_type": "code",
        "client_id": "sandbox-client",
        "redirect_uri": REDIRECT,
        "state": "s-123",
    } | extra
    return sandbox.handle("oauth", "GET", "/oauth/authorize", urlencode(params), {}, b"")


def code_from(response: SandboxResponse) -> str:
    assert response.status == 302
    return parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]


def connect(sandbox: ZoomSandbox) -> dict[str, Any]:
    """The whole authorization-code flow; returns the token response body."""
    code = code_from(authorize(sandbox))
    response = token(sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert response.status == 200
    body: dict[str, Any] = response.json()
    return body


def oauth_error(response: SandboxResponse) -> tuple[int, str, str]:
    body = response.json()
    assert set(body) == {"reason", "error"}
    return response.status, body["error"], body["reason"]


# --- account_credentials (§3.1) ------------------------------------------------------------------


def test_account_credentials_issue_a_bearer_token_without_refresh(sandbox: ZoomSandbox) -> None:
    response = token(sandbox, grant_type="account_credentials", account_id="sandbox-account")
    body = response.json()
    assert response.status == 200
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "api_url"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "user:read:admin user:write:admin"
    assert body["api_url"] == "https://api.zoom.us"
    assert response.headers["Cache-Control"] == "no-store"
    assert api_status(sandbox, body["access_token"])[0] == 200
    assert sandbox.token_grants == {"account_credentials": 1}


def test_token_ttl_and_scopes_are_configurable(clock: ManualClock) -> None:
    sandbox = ZoomSandbox(user_count=3, clock=clock, token_ttl=60, scopes=("user:read:admin",))
    body = token(sandbox, grant_type="account_credentials", account_id="sandbox-account").json()
    assert (body["expires_in"], body["scope"]) == (60, "user:read:admin")
    clock.advance(60)
    assert api_status(sandbox, body["access_token"])[1]["message"] == "Access token is expired."


def test_earlier_s2s_tokens_stay_valid(sandbox: ZoomSandbox) -> None:
    tokens = [s2s(sandbox) for _ in range(3)]
    assert len(set(tokens)) == 3
    assert [api_status(sandbox, t)[0] for t in tokens] == [200, 200, 200]
    assert sandbox.token_grants == {"account_credentials": 3}


@pytest.mark.parametrize(
    "auth",
    [
        None,
        "Basic " + base64.b64encode(b"sandbox-client:wrong").decode(),
        "Basic " + base64.b64encode(b"other-client:sandbox-secret").decode(),
        "Basic " + base64.b64encode(b"sandbox-client").decode(),
        "Basic not base64!",
        "Bearer sandbox-secret",
    ],
)
def test_bad_client_credentials_are_invalid_client(sandbox: ZoomSandbox, auth: str | None) -> None:
    form = {"grant_type": "account_credentials", "account_id": "sandbox-account"}
    response = post(sandbox, "/oauth/token", form, auth=auth)
    assert oauth_error(response) == (401, "invalid_client", "Invalid client_id or client_secret")
    assert sandbox.token_grants == {}


def test_parameters_in_the_query_string_are_refused(sandbox: ZoomSandbox) -> None:
    query = "grant_type=account_credentials&account_id=sandbox-account"
    response = post(sandbox, "/oauth/token", {}, query=query)
    assert oauth_error(response)[:2] == (400, "invalid_request")


@pytest.mark.parametrize("account_id", [None, "", "another-account"])
def test_account_id_must_be_the_apps(sandbox: ZoomSandbox, account_id: str | None) -> None:
    form = {"grant_type": "account_credentials"}
    if account_id is not None:
        form["account_id"] = account_id
    assert oauth_error(post(sandbox, "/oauth/token", form))[:2] == (400, "invalid_request")


def test_missing_and_unknown_grant_types(sandbox: ZoomSandbox) -> None:
    assert oauth_error(token(sandbox)) == (400, "invalid_request", "Missing grant type")
    assert oauth_error(token(sandbox, grant_type="password")) == (
        400,
        "unsupported_grant_type",
        "Unsupported grant type",
    )


# --- authorize (§3.2, §7.9) ----------------------------------------------------------------------


def test_authorize_redirects_with_a_code_and_the_state(sandbox: ZoomSandbox) -> None:
    response = authorize(sandbox)
    location = urlsplit(response.headers["Location"])
    assert response.status == 302
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["s-123"]
    assert len(query["code"][0]) >= 20
    assert response.body == b""


def test_authorize_keeps_the_redirect_uris_own_query(sandbox: ZoomSandbox) -> None:
    response = authorize(sandbox, redirect_uri="https://zoomadmin.example.com/cb?next=%2F")
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["next"] == ["/"]
    assert "code" in query


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"client_id": "someone-else"}, "invalid_client"),
        ({"redirect_uri": "http://attacker.example.com/cb"}, "invalid_request"),
        ({"redirect_uri": "javascript:alert(1)"}, "invalid_request"),
        ({"redirect_uri": ""}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge": "x", "code_challenge_method": "S512"}, "invalid_request"),
    ],
)
def test_authorize_refuses_bad_requests(
    sandbox: ZoomSandbox, extra: dict[str, str], error: str
) -> None:
    response = authorize(sandbox, **extra)
    assert oauth_error(response)[:2] == (400, error)
    assert "Location" not in response.headers


def test_configured_redirect_uris_must_match_exactly(clock: ManualClock) -> None:
    sandbox = ZoomSandbox(user_count=3, clock=clock, redirect_uris=(REDIRECT,))
    assert authorize(sandbox).status == 302
    assert authorize(sandbox, redirect_uri=REDIRECT + "/x").status == 400


# --- authorization_code (§3.2, §7.8) -------------------------------------------------------------


def test_code_exchange_gives_a_rotating_pair_for_the_owner(sandbox: ZoomSandbox) -> None:
    body = connect(sandbox)
    assert set(body) == {
        "access_token",
        "token_type",
        "refresh_token",
        "expires_in",
        "scope",
        "api_url",
    }
    status, me = api_status(sandbox, body["access_token"], "/users/me")
    assert status == 200
    assert me["role_id"] == "0"  # the auto-consenting user is the account owner
    assert sandbox.token_grants == {"authorization_code": 1}


def test_a_code_works_once(sandbox: ZoomSandbox) -> None:
    code = code_from(authorize(sandbox))
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    first = token(sandbox, **form)
    again = token(sandbox, **form)
    assert oauth_error(again) == (400, "invalid_grant", "Invalid authorization code")
    # RFC 6749 §4.1.2: replaying a code revokes what it issued.
    assert api_status(sandbox, first.json()["access_token"])[0] == 401


def test_a_code_expires_after_five_minutes(sandbox: ZoomSandbox, clock: ManualClock) -> None:
    code = code_from(authorize(sandbox))
    clock.advance(300)
    response = token(sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert oauth_error(response) == (400, "invalid_grant", "Invalid authorization code")


def test_unknown_code_is_invalid(sandbox: ZoomSandbox) -> None:
    response = token(sandbox, grant_type="authorization_code", code="x", redirect_uri=REDIRECT)
    assert oauth_error(response) == (400, "invalid_grant", "Invalid authorization code")


def test_redirect_uri_must_equal_the_authorize_one(sandbox: ZoomSandbox) -> None:
    code = code_from(authorize(sandbox))
    response = token(
        sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT + "/other"
    )
    assert oauth_error(response)[:2] == (400, "invalid_grant")


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("method", "challenge_of", "sent", "status"),
    [
        ("S256", _s256, "v" * 50, 200),
        ("S256", _s256, "w" * 50, 400),
        ("S256", _s256, None, 400),
        ("plain", lambda v: v, "v" * 50, 200),
        ("plain", lambda v: v, "w" * 50, 400),
    ],
)
def test_pkce_is_verified_when_a_challenge_was_given(
    sandbox: ZoomSandbox, method: str, challenge_of: Any, sent: str | None, status: int
) -> None:
    challenge = challenge_of("v" * 50)
    code = code_from(authorize(sandbox, code_challenge=challenge, code_challenge_method=method))
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    if sent is not None:
        form["code_verifier"] = sent
    response = token(sandbox, **form)
    assert response.status == status
    if status == 400:
        assert oauth_error(response)[:2] == (400, "invalid_grant")


# --- refresh_token (§3.2) ------------------------------------------------------------------------


def test_refresh_rotates_and_the_old_refresh_token_dies(sandbox: ZoomSandbox) -> None:
    first = connect(sandbox)
    refreshed = token(sandbox, grant_type="refresh_token", refresh_token=first["refresh_token"])
    second = refreshed.json()
    assert refreshed.status == 200
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    reuse = token(sandbox, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert oauth_error(reuse) == (400, "invalid_grant", "Invalid Token!")
    # The earlier access token lives out its hour; the new pair works.
    assert api_status(sandbox, first["access_token"])[0] == 200
    assert api_status(sandbox, second["access_token"])[0] == 200
    again = token(sandbox, grant_type="refresh_token", refresh_token=second["refresh_token"])
    assert again.status == 200
    assert sandbox.token_grants == {"authorization_code": 1, "refresh_token": 2}


def test_concurrent_refreshes_with_one_token_have_one_winner(sandbox: ZoomSandbox) -> None:
    refresh = connect(sandbox)["refresh_token"]
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        statuses.append(token(sandbox, grant_type="refresh_token", refresh_token=refresh).status)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [400] * 7


def test_a_refresh_token_is_not_a_bearer_token(sandbox: ZoomSandbox) -> None:
    status, body = api_status(sandbox, connect(sandbox)["refresh_token"])
    assert (status, body["code"], body["message"]) == (401, 124, "Invalid access token.")


def test_an_access_token_is_not_a_refresh_token(sandbox: ZoomSandbox) -> None:
    access = connect(sandbox)["access_token"]
    response = token(sandbox, grant_type="refresh_token", refresh_token=access)
    assert oauth_error(response) == (400, "invalid_grant", "Invalid Token!")


def test_refresh_tokens_expire(sandbox: ZoomSandbox, clock: ManualClock) -> None:
    refresh = connect(sandbox)["refresh_token"]
    clock.advance(90 * 86_400)
    response = token(sandbox, grant_type="refresh_token", refresh_token=refresh)
    assert oauth_error(response) == (400, "invalid_grant", "Invalid Token!")


def test_a_new_authorization_invalidates_older_refresh_tokens(sandbox: ZoomSandbox) -> None:
    old = connect(sandbox)
    connect(sandbox)
    response = token(sandbox, grant_type="refresh_token", refresh_token=old["refresh_token"])
    assert oauth_error(response) == (400, "invalid_grant", "Invalid Token!")


# --- revoke (§3.3, §7.10) ------------------------------------------------------------------------


def test_revoking_an_access_token_also_kills_its_refresh_token(sandbox: ZoomSandbox) -> None:
    pair = connect(sandbox)
    response = post(sandbox, "/oauth/revoke", {"token": pair["access_token"]})
    assert (response.status, response.json()) == (200, {"status": "success"})
    assert api_status(sandbox, pair["access_token"])[0] == 401
    refreshed = token(sandbox, grant_type="refresh_token", refresh_token=pair["refresh_token"])
    assert oauth_error(refreshed)[1] == "invalid_grant"


def test_revoking_a_refresh_token_also_kills_its_access_token(sandbox: ZoomSandbox) -> None:
    pair = connect(sandbox)
    assert post(sandbox, "/oauth/revoke", {"token": pair["refresh_token"]}).status == 200
    assert api_status(sandbox, pair["access_token"])[0] == 401


def test_revoking_an_s2s_token(sandbox: ZoomSandbox) -> None:
    access = s2s(sandbox)
    post(sandbox, "/oauth/revoke", {"token": access})
    status, body = api_status(sandbox, access)
    assert (status, body["message"]) == (401, "Invalid access token.")


def test_revoke_answers_success_for_unknown_tokens(sandbox: ZoomSandbox) -> None:
    response = post(sandbox, "/oauth/revoke", {"token": "never-issued"})
    assert (response.status, response.json()) == (200, {"status": "success"})


def test_revoke_needs_client_auth_and_a_form_token(sandbox: ZoomSandbox) -> None:
    access = s2s(sandbox)
    assert post(sandbox, "/oauth/revoke", {"token": access}, auth=None).status == 401
    assert oauth_error(post(sandbox, "/oauth/revoke", {}))[:2] == (400, "invalid_request")
    in_query = post(sandbox, "/oauth/revoke", {}, query=urlencode({"token": access}))
    assert oauth_error(in_query)[:2] == (400, "invalid_request")
    assert api_status(sandbox, access)[0] == 200


# --- Controls: expire and revoke everything ------------------------------------------------------


def test_expire_access_tokens_then_a_new_token_works(sandbox: ZoomSandbox) -> None:
    old = s2s(sandbox)
    assert sandbox.expire_access_tokens() == 1
    status, body = api_status(sandbox, old)
    assert (status, body["code"], body["message"]) == (401, 124, "Access token is expired.")
    assert api_status(sandbox, s2s(sandbox))[0] == 200
    assert sandbox.state()["live_tokens"] == 1


def test_revoke_all_tokens_makes_them_unknown(sandbox: ZoomSandbox) -> None:
    access = s2s(sandbox)
    pair = connect(sandbox)
    assert sandbox.revoke_all_tokens() == 3
    assert api_status(sandbox, access)[1]["message"] == "Invalid access token."
    refreshed = token(sandbox, grant_type="refresh_token", refresh_token=pair["refresh_token"])
    assert oauth_error(refreshed)[1] == "invalid_grant"


# --- Routing and secrecy -------------------------------------------------------------------------


def test_unknown_oauth_paths_and_wrong_methods(sandbox: ZoomSandbox) -> None:
    assert sandbox.handle("oauth", "GET", "/oauth/userinfo", "", {}, b"").status == 404
    wrong = sandbox.handle("oauth", "GET", "/oauth/token", "", {}, b"")
    assert (wrong.status, wrong.headers["Allow"]) == (405, "POST")


def test_no_token_value_is_recorded_or_reported(sandbox: ZoomSandbox) -> None:
    pair = connect(sandbox)
    access = s2s(sandbox)
    token(sandbox, grant_type="refresh_token", refresh_token=pair["refresh_token"])
    api_status(sandbox, access)
    sandbox.handle("api", "GET", "/users", f"access_token={access}", {}, b"")
    secrets = [pair["access_token"], pair["refresh_token"], access, "sandbox-secret"]
    recorded = repr(sandbox.requests) + json.dumps(sandbox.state()) + repr(sandbox.revocations)
    assert not [s for s in secrets if s in recorded]
    assert sandbox.requests[-1].query == {"access_token": ["[redacted]"]}
    assert sandbox.requests[-2].headers["authorization"] == "Bearer [redacted]"
    assert b"refresh_token=%5Bredacted%5D" in sandbox.requests[-3].body
    assert sandbox.requests[-2].token_id == "at-2"
    fresh = token(sandbox, grant_type="account_credentials", account_id="sandbox-account")
    assert fresh.json()["access_token"] not in repr(fresh)
