"""Both fronts end to end with real ``requests`` calls: the ``responses`` front in-process,
and the HTTP front on a free loopback port in a thread."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses

from tests.servers import serving
from zoomadmin.zoom.sandbox import ManualClock, ZoomSandbox
from zoomadmin.zoom.sandbox.mock import install
from zoomadmin.zoom.sandbox.server import make_server

from .openapi import validate_request, validate_sandbox_response

API = "https://api.zoom.us/v2"
OAUTH = "https://zoom.us"
CLIENT = ("sandbox-client", "sandbox-secret")
S2S = {"grant_type": "account_credentials", "account_id": "sandbox-account"}


def checked(response: requests.Response, api_base: str) -> requests.Response:
    """Check the request we sent and the answer we got against Zoom's spec."""
    url = response.request.url or ""
    validate_request(response.request.method or "", url, response.request.body)
    path = url.removeprefix(api_base).partition("?")[0]
    validate_sandbox_response(
        response.request.method or "", path, response.status_code, response.content
    )
    return response


def bearer_session(token_url: str) -> requests.Session:
    session = requests.Session()
    reply = session.post(token_url, auth=CLIENT, data=S2S, timeout=5)
    assert reply.status_code == 200
    session.headers["Authorization"] = f"Bearer {reply.json()['access_token']}"
    return session


def an_sso_user_id(sandbox: ZoomSandbox) -> str:
    return next(u.id for u in sandbox.users if u.is_sso and u.status == "active")


# --- The responses front -------------------------------------------------------------------------


@pytest.fixture
def mocked() -> Iterator[ZoomSandbox]:
    sandbox = ZoomSandbox(user_count=80)
    # assert_all_requests_are_fired=True on purpose: install() must not trip it.
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        install(sandbox, rsps, api_base_url=API, oauth_base_url=OAUTH)
        yield sandbox


@pytest.fixture
def http(mocked: ZoomSandbox) -> Iterator[requests.Session]:
    with bearer_session(f"{OAUTH}/oauth/token") as session:
        yield session


def test_mock_front_serves_the_whole_flow(mocked: ZoomSandbox, http: requests.Session) -> None:
    listed = checked(http.get(f"{API}/users", params={"page_size": 5}, timeout=5), API)
    assert listed.status_code == 200
    assert listed.headers["X-RateLimit-Category"] == "Medium"
    user_id = an_sso_user_id(mocked)
    got = checked(http.get(f"{API}/users/{user_id}", timeout=5), API)
    assert got.json()["id"] == user_id
    revoked = checked(http.delete(f"{API}/users/{user_id}/token", timeout=5), API)
    assert (revoked.status_code, revoked.content) == (204, b"")
    assert "Content-Type" not in revoked.headers
    assert [r.user_id for r in mocked.revocations] == [user_id]
    assert [r.endpoint for r in mocked.requests] == ["token", "list_users", "get_user", "revoke"]


def test_mock_front_records_a_forbidden_delete(mocked: ZoomSandbox, http: requests.Session) -> None:
    user_id = an_sso_user_id(mocked)
    response = checked(http.delete(f"{API}/users/{user_id}", timeout=5), API)
    assert response.json()["code"] == 2300
    assert mocked.requests[-1].endpoint == "delete_user"
    assert mocked.find_user(user_id) is not None


def test_mock_front_sends_the_form_body_it_got(mocked: ZoomSandbox) -> None:
    reply = requests.post(f"{OAUTH}/oauth/token", auth=CLIENT, params=S2S, timeout=5)
    assert (reply.status_code, reply.json()["error"]) == (400, "invalid_request")
    assert mocked.api_url == "https://api.zoom.us"


def test_mock_front_put_with_a_json_body(mocked: ZoomSandbox, http: requests.Session) -> None:
    user = next(u for u in mocked.users if u.status == "active" and u.role_id == "2")
    response = http.put(f"{API}/users/{user.id}/status", json={"action": "deactivate"}, timeout=5)
    assert checked(response, API).status_code == 204
    assert mocked.find_user(user.id).status == "inactive"  # type: ignore[union-attr]


def test_mock_front_reset_is_a_connection_error(
    mocked: ZoomSandbox, http: requests.Session
) -> None:
    mocked.add_fault(endpoint="revoke", reset=True)
    with pytest.raises(requests.ConnectionError) as raised:
        http.delete(f"{API}/users/{an_sso_user_id(mocked)}/token", timeout=5)
    reason = raised.value.args[0]
    assert isinstance(reason.args[1], ConnectionResetError)
    assert mocked.revocations == []


@pytest.mark.parametrize("timeout", [0.5, (3.05, 0.5)])
def test_mock_front_delay_past_the_read_timeout_raises_at_once(
    mocked: ZoomSandbox, http: requests.Session, timeout: Any
) -> None:
    mocked.add_fault(endpoint="revoke", delay=30.0)
    started = time.perf_counter()
    with pytest.raises(requests.ReadTimeout):
        http.delete(f"{API}/users/{an_sso_user_id(mocked)}/token", timeout=timeout)
    assert time.perf_counter() - started < 1.0
    assert len(mocked.revocations) == 1  # Zoom did it; the client only knows it timed out


def test_mock_front_delay_equal_to_the_timeout_times_out(
    mocked: ZoomSandbox, http: requests.Session
) -> None:
    mocked.add_fault(endpoint="get_user", delay=2.0)
    with pytest.raises(requests.ReadTimeout):
        http.get(f"{API}/users/{an_sso_user_id(mocked)}", timeout=2)


def test_mock_front_shorter_delays_do_not_wait(mocked: ZoomSandbox, http: requests.Session) -> None:
    mocked.add_fault(endpoint="get_user", delay=3.0)
    mocked.add_fault(endpoint="get_user", delay=3.0)
    started = time.perf_counter()
    assert http.get(f"{API}/users/{an_sso_user_id(mocked)}", timeout=10).status_code == 200
    assert http.get(f"{API}/users/{an_sso_user_id(mocked)}").status_code == 200  # no timeout
    assert time.perf_counter() - started < 1.0


def test_mock_front_sleeps_with_an_injected_sleep() -> None:
    clock = ManualClock()
    sandbox = ZoomSandbox(user_count=10, clock=clock, sleep=clock.sleep)
    with responses.RequestsMock() as rsps:
        install(sandbox, rsps, api_base_url=API, oauth_base_url=OAUTH)
        sandbox.add_fault(endpoint="token", delay=4.0)
        before = clock()
        assert requests.post(f"{OAUTH}/oauth/token", auth=CLIENT, data=S2S, timeout=5).ok
        assert clock() - before == 4.0


def test_mock_front_unused_is_fine_with_assert_all_requests_are_fired() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        install(ZoomSandbox(user_count=1), rsps, api_base_url=API, oauth_base_url=OAUTH)


def test_mock_front_on_one_origin_like_the_http_front() -> None:
    sandbox = ZoomSandbox(user_count=10)
    origin = "http://127.0.0.1:8010"
    with responses.RequestsMock() as rsps:
        install(sandbox, rsps, api_base_url=f"{origin}/v2", oauth_base_url=origin)
        with bearer_session(f"{origin}/oauth/token") as session:
            response = session.get(f"{origin}/v2/users", timeout=5)
            assert checked(response, f"{origin}/v2").status_code == 200
        assert sandbox.api_url == origin
        with pytest.raises(requests.ConnectionError):  # outside both bases: not the sandbox's
            requests.get(f"{origin}/elsewhere", timeout=5)


def test_mock_front_authorize_redirect(mocked: ZoomSandbox) -> None:
    params = {
        "response_type": "code",
        "client_id": "sandbox-client",
        "redirect_uri": "http://127.0.0.1:8000/cb",
        "state": "xyz",
    }
    response = requests.get(
        f"{OAUTH}/oauth/authorize", params=params, allow_redirects=False, timeout=5
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("http://127.0.0.1:8000/cb?code=")


# --- The HTTP front ------------------------------------------------------------------------------


@pytest.fixture
def served() -> Iterator[tuple[ZoomSandbox, str]]:
    sandbox = ZoomSandbox(user_count=80)
    with serving(sandbox) as origin:
        yield sandbox, origin


@pytest.fixture
def live(served: tuple[ZoomSandbox, str]) -> Iterator[requests.Session]:
    with bearer_session(f"{served[1]}/oauth/token") as session:
        yield session


def test_http_front_serves_the_whole_flow(
    served: tuple[ZoomSandbox, str], live: requests.Session
) -> None:
    sandbox, origin = served
    api = f"{origin}/v2"
    assert sandbox.api_url == origin
    listed = checked(live.get(f"{api}/users", params={"status": "pending"}, timeout=5), api)
    assert all("id" not in u for u in listed.json()["users"])
    user_id = an_sso_user_id(sandbox)
    assert checked(live.get(f"{api}/users/{user_id}", timeout=5), api).status_code == 200
    revoked = checked(live.delete(f"{api}/users/{user_id}/token", timeout=5), api)
    assert (revoked.status_code, revoked.content) == (204, b"")
    assert "Content-Length" not in revoked.headers
    assert revoked.headers["x-zm-trackingid"].startswith("v=2.0;clid=us01;rid=")
    unknown = live.get(f"{api}/meetings", timeout=5)
    assert (unknown.status_code, unknown.json()["code"]) == (404, 2300)


def test_http_front_reset_drops_the_connection(
    served: tuple[ZoomSandbox, str], live: requests.Session
) -> None:
    sandbox, origin = served
    sandbox.add_fault(endpoint="revoke", reset=True)
    with pytest.raises(requests.ConnectionError):
        live.delete(f"{origin}/v2/users/{an_sso_user_id(sandbox)}/token", timeout=5)
    assert sandbox.revocations == []
    # The server lives on, and the session reconnects.
    assert live.get(f"{origin}/v2/users", timeout=5).status_code == 200


def test_http_front_delay_makes_a_short_timeout_expire(
    served: tuple[ZoomSandbox, str], live: requests.Session
) -> None:
    sandbox, origin = served
    sandbox.add_fault(endpoint="revoke", delay=0.6)
    started = time.perf_counter()
    with pytest.raises(requests.ReadTimeout):
        live.delete(f"{origin}/v2/users/{an_sso_user_id(sandbox)}/token", timeout=0.2)
    assert time.perf_counter() - started < 0.55
    assert len(sandbox.revocations) == 1
    assert live.get(f"{origin}/v2/users", timeout=5).status_code == 200


def test_http_front_delay_shorter_than_the_timeout_answers_late(
    served: tuple[ZoomSandbox, str], live: requests.Session
) -> None:
    sandbox, origin = served
    sandbox.add_fault(endpoint="list_users", delay=0.3)
    started = time.perf_counter()
    assert live.get(f"{origin}/v2/users", timeout=5).status_code == 200
    assert time.perf_counter() - started >= 0.3


def test_http_front_control_endpoints(
    served: tuple[ZoomSandbox, str], live: requests.Session
) -> None:
    sandbox, origin = served
    fault: dict[str, Any] = {"endpoint": "get_user", "status": 503, "times": 2}
    with requests.Session() as control:
        added = control.post(f"{origin}/_sandbox/faults", json=fault, timeout=5)
        assert added.status_code == 201
        assert added.json()["state"]["pending_faults"] == 2
        assert live.get(f"{origin}/v2/users/x", timeout=5).status_code == 503
        assert control.delete(f"{origin}/_sandbox/faults", timeout=5).status_code == 200
        assert live.get(f"{origin}/v2/users/x", timeout=5).status_code == 404

        bad = control.post(f"{origin}/_sandbox/faults", json={"endpoint": "nope"}, timeout=5)
        assert bad.status_code == 400
        wrong_type = {"endpoint": "revoke", "status": "503"}
        assert (
            control.post(f"{origin}/_sandbox/faults", json=wrong_type, timeout=5).status_code == 400
        )

        user_id = an_sso_user_id(sandbox)
        live.delete(f"{origin}/v2/users/{user_id}/token", timeout=5)
        revocations = control.get(f"{origin}/_sandbox/revocations", timeout=5).json()
        assert [r["user_id"] for r in revocations["revocations"]] == [user_id]
        assert revocations["revocations"][0]["at"].endswith("Z")

        assert control.post(f"{origin}/_sandbox/expire-tokens", timeout=5).json() == {"expired": 1}
        expired = live.get(f"{origin}/v2/users", timeout=5)
        assert (expired.status_code, expired.json()["message"]) == (401, "Access token is expired.")

        state = control.get(f"{origin}/_sandbox/state", timeout=5)
        counts = state.json()
        assert counts["users"] == 80
        assert counts["revocations"] == 1
        assert counts["live_tokens"] == 0
        assert counts["requests"]["get_user"] == 2
        token = live.headers["Authorization"].removeprefix("Bearer ")
        assert token not in state.text

        missing = control.get(f"{origin}/_sandbox/nothing", timeout=5)
        assert missing.status_code == 404


def test_http_front_other_paths_and_big_bodies(served: tuple[ZoomSandbox, str]) -> None:
    _, origin = served
    with requests.Session() as session:
        assert session.get(f"{origin}/favicon.ico", timeout=5).status_code == 404
        big = session.post(f"{origin}/oauth/token", data=b"x" * 1_000_001, timeout=5)
        assert big.status_code == 413


def test_http_front_refuses_chunked_bodies(served: tuple[ZoomSandbox, str]) -> None:
    _, origin = served
    with requests.Session() as session:
        response = session.post(f"{origin}/oauth/token", data=iter([b"a=1"]), timeout=5)
        assert response.status_code == 411


def test_http_front_is_quiet(
    served: tuple[ZoomSandbox, str], live: requests.Session, capfd: pytest.CaptureFixture[str]
) -> None:
    _, origin = served
    live.get(f"{origin}/v2/users", timeout=5)
    live.get(f"{origin}/v2/nowhere", timeout=5)
    assert capfd.readouterr() == ("", "")


def test_http_front_refuses_non_loopback_hosts() -> None:
    with pytest.raises(ValueError, match="non-loopback"):
        make_server(ZoomSandbox(user_count=1), host="192.0.2.10", port=0)


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ({"endpoint": "revoke", "status": 503, "times": False}, "field 'times' has the wrong type"),
        ({"endpoint": "revoke", "status": True}, "field 'status' has the wrong type"),
        ({"endpoint": "revoke", "status": 503, "times": None}, "field 'times' cannot be null"),
        ({"endpoint": "revoke", "delay": None, "reset": True}, "field 'delay' cannot be null"),
    ],
)
def test_http_front_refuses_fault_fields_of_the_wrong_kind_by_name(
    served: tuple[ZoomSandbox, str], fault: dict[str, Any], message: str
) -> None:
    sandbox, origin = served
    with requests.Session() as control:
        refused = control.post(f"{origin}/_sandbox/faults", json=fault, timeout=5)

    assert refused.status_code == 400
    assert message in refused.text
    assert sandbox.state()["pending_faults"] == 0
