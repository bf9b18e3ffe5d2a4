"""How calls to Zoom behave when Zoom misbehaves (SECURITY.md, "Zoom faults")."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import UTC, datetime

import pytest
import requests
from django.test import Client
from pytest_django.fixtures import Settings

from tests.conftest import FakeClock
from tests.flows import HTMX, force_logout, open_confirm_form, text, zoom_deletes
from tests.servers import serving
from zoomadmin.audit.models import Action, AuditEvent, Outcome
from zoomadmin.zoom import circuit, client, ratelimit, transport
from zoomadmin.zoom.errors import (
    ZoomBadResponse,
    ZoomBusy,
    ZoomNoAnswer,
    ZoomRateLimited,
    ZoomServerError,
    ZoomUnavailable,
    ZoomUnreachable,
    ZoomUserNotFound,
)
from zoomadmin.zoom.models import RateLimitBucket, ZoomCircuit
from zoomadmin.zoom.sandbox import SandboxUser, ZoomSandbox

pytestmark = pytest.mark.django_db


def api_calls(sandbox: ZoomSandbox, endpoint: str) -> list[int | None]:
    return [r.status for r in sandbox.requests if r.endpoint == endpoint]


def result_row() -> AuditEvent:
    return AuditEvent.objects.get(action=Action.FORCE_LOGOUT_RESULT)


# --- retries ---------------------------------------------------------------------------


def test_429_then_503_then_204_ends_as_success(
    helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    sandbox.add_fault(endpoint="revoke", status=429)
    sandbox.add_fault(endpoint="revoke", status=503)

    response = force_logout(helpdesk_client, sso_user)

    assert "Forced out of Zoom" in text(response)
    assert api_calls(sandbox, "revoke") == [429, 503, 204]
    assert result_row().outcome == Outcome.SUCCESS
    assert [r.user_id for r in sandbox.revocations] == [sso_user.id]


def test_a_daily_limit_429_fails_fast_with_the_reset_time(
    helpdesk_client: Client,
    sandbox: ZoomSandbox,
    sso_user: SandboxUser,
    sso_users: list[SandboxUser],
) -> None:
    sandbox.add_fault(endpoint="revoke", status=429, headers={"X-RateLimit-Type": "Daily-limit"})

    response = force_logout(helpdesk_client, sso_user)

    assert api_calls(sandbox, "revoke") == [429], "a daily limit is not waited out"
    page = text(response)
    assert "daily limit" in page
    assert "Zoom accepts more requests from" in page
    assert datetime.now(UTC).strftime("%Y") in page
    row = result_row()
    assert (row.outcome, row.zoom_status) == (Outcome.FAILED, 429)
    # Until the reset, no Light call (revoke or lookup) even reaches Zoom.
    with pytest.raises(ZoomRateLimited) as raised:
        client.revoke_sso_token(sso_users[1].id)
    assert raised.value.resets_at is not None
    with pytest.raises(ZoomRateLimited):
        client.get_user(sso_users[1].email)
    assert api_calls(sandbox, "revoke") == [429]
    assert api_calls(sandbox, "get_user") == [200]


def test_5xx_is_retried_then_reported_after_the_last_attempt(
    sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    sandbox.add_fault(endpoint="revoke", status=502, times=10)

    with pytest.raises(ZoomServerError) as raised:
        client.revoke_sso_token(sso_user.id)

    assert api_calls(sandbox, "revoke") == [502] * transport.MAX_ATTEMPTS
    assert f"tried {transport.MAX_ATTEMPTS} times" in raised.value.agent_message
    assert "safe to try again" in raised.value.agent_message


def test_404_is_final_and_not_retried(sandbox: ZoomSandbox) -> None:
    with pytest.raises(ZoomUserNotFound):
        client.revoke_sso_token("nobody@globex.example.com")
    assert api_calls(sandbox, "revoke") == [404]


@pytest.mark.parametrize("fault", [{"reset": True}, {"delay": 60.0}])
def test_no_answer_on_every_attempt_leaves_the_outcome_unknown(
    fault: dict[str, object],
    helpdesk_client: Client,
    sandbox: ZoomSandbox,
    sso_user: SandboxUser,
    zoom_clock: FakeClock,
) -> None:
    sandbox.add_fault(endpoint="revoke", times=20, **fault)  # type: ignore[arg-type]

    response = force_logout(helpdesk_client, sso_user)

    assert "Outcome unknown" in text(response)
    assert "may or may not have acted" in text(response)
    assert result_row().outcome == Outcome.UNKNOWN
    assert len(api_calls(sandbox, "revoke")) == transport.MAX_ATTEMPTS
    assert sum(zoom_clock.sleeps) < transport.INTERACTIVE_DEADLINE


def test_an_unanswered_attempt_then_a_clear_failure_is_still_unknown(
    sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    # The first attempt may have revoked the token; the 503s that follow cannot undo it.
    sandbox.add_fault(endpoint="revoke", reset=True)
    sandbox.add_fault(endpoint="revoke", status=503, times=10)

    with pytest.raises(ZoomNoAnswer) as raised:
        client.revoke_sso_token(sso_user.id)

    assert raised.value.outcome == "unknown"
    assert raised.value.status == 503


def test_a_malformed_body_is_retried(
    sandbox: ZoomSandbox, sso_user: SandboxUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_parse = client.ZoomUser.from_api
    calls = {"n": 0}

    def first_unreadable(data: object) -> client.ZoomUser:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ZoomBadResponse("Zoom sent an answer we cannot read.")
        return real_parse(data)

    monkeypatch.setattr(client.ZoomUser, "from_api", staticmethod(first_unreadable))
    user, _ = client.get_user(sso_user.email)

    assert user.email == sso_user.email
    assert api_calls(sandbox, "get_user") == [200, 200]


def test_connect_timeouts_are_retried_and_reported_as_nothing_sent(
    sandbox: ZoomSandbox, sso_user: SandboxUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.get_user(sso_user.email)  # a token first, through the sandbox

    class NeverConnects(requests.Session):
        def request(self, *args: object, **kwargs: object) -> requests.Response:  # type: ignore[override]
            raise requests.exceptions.ConnectTimeout("timed out")

    monkeypatch.setattr(transport, "_session", NeverConnects)
    with pytest.raises(ZoomUnreachable) as raised:
        client.revoke_sso_token(sso_user.id)

    assert raised.value.outcome == "failed"
    assert "Nothing was sent" in raised.value.agent_message


@pytest.mark.real_clock
def test_a_hanging_zoom_gets_an_answer_within_the_deadline(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over real HTTP, with real time: every attempt hangs, the agent still hears back."""
    fake = ZoomSandbox(
        user_count=5,
        plan="business",
        account_id=settings.ZOOM_ACCOUNT_ID,
        client_id=settings.ZOOM_CLIENT_ID,
        client_secret=settings.ZOOM_CLIENT_SECRET,
    )
    with serving(fake) as origin:
        settings.ZOOM_API_BASE_URL = f"{origin}/v2"
        settings.ZOOM_OAUTH_BASE_URL = origin
        settings.ZOOM_TIMEOUT = (1.0, 1.0)
        monkeypatch.setattr(transport, "INTERACTIVE_DEADLINE", 3.0)
        target = fake.users[0]
        fake.add_fault(endpoint="revoke", delay=30, times=20)

        started = time.monotonic()
        with pytest.raises(ZoomNoAnswer):
            client.revoke_sso_token(target.id, deadline=transport.Deadline())
        elapsed = time.monotonic() - started
    assert elapsed < 3.0 + 0.5, f"answered after {elapsed:.1f} s"
    assert len([r for r in fake.requests if r.endpoint == "revoke"]) >= 2


# --- Retry-After ---------------------------------------------------------------------------


def fake_response(headers: dict[str, str], body: bytes = b"{}") -> requests.Response:
    response = requests.Response()
    response.status_code = 429
    response.headers.update(headers)
    response._content = body
    return response


def test_retry_after_in_seconds_and_as_dates() -> None:
    now = time.time()
    in_seconds = transport.retry_after_epoch(fake_response({"Retry-After": "3"}))
    assert in_seconds is not None and abs(in_seconds - (now + 3)) < 1
    iso = transport.retry_after_epoch(fake_response({"Retry-After": "2030-01-20T00:00:00Z"}))
    assert iso == datetime(2030, 1, 20, tzinfo=UTC).timestamp()
    http_date = transport.retry_after_epoch(
        fake_response({"Retry-After": "Sun, 20 Jan 2030 00:00:00 GMT"})
    )
    assert http_date == datetime(2030, 1, 20, tzinfo=UTC).timestamp()
    assert transport.retry_after_epoch(fake_response({"Retry-After": "soon"})) is None
    assert transport.retry_after_epoch(fake_response({})) is None


def test_a_long_retry_after_is_capped() -> None:
    wait = transport._wait_asked(fake_response({"Retry-After": "3600"}))
    assert wait == transport.RETRY_AFTER_CAP


def test_daily_limits_are_recognised_by_header_or_message() -> None:
    assert transport.is_daily_limit(fake_response({"X-RateLimit-Type": "Daily-limit"}))
    daily_body = b'{"code": 429, "message": "You have reached the maximum daily rate limit."}'
    assert transport.is_daily_limit(fake_response({}, daily_body))
    assert not transport.is_daily_limit(fake_response({"X-RateLimit-Type": "QPS"}))


# --- the shared rate limiter --------------------------------------------------------------


def test_slots_are_spaced_below_the_plans_rate(settings: Settings) -> None:
    settings.ZOOM_PLAN = "pro"
    far = time.time() + 60
    slots = [ratelimit.reserve("light", not_after=far) for _ in range(31)]
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert min(gaps) >= 1 / 30 - 1e-9
    # No one-second window holds more than Zoom's 30.
    assert max(sum(1 for s in slots if start <= s < start + 1) for start in slots) <= 30


def test_categories_have_their_own_slots(settings: Settings) -> None:
    settings.ZOOM_PLAN = "free"
    far = time.time() + 60
    first_light = ratelimit.reserve("light", not_after=far)
    first_medium = ratelimit.reserve("medium", not_after=far)
    assert abs(first_light - first_medium) < 0.5
    assert ratelimit.reserve("light", not_after=far) - first_light >= 1 / 4


def test_no_slot_before_the_deadline_is_refused_without_reserving(settings: Settings) -> None:
    settings.ZOOM_PLAN = "free"
    soon = time.time() + 0.3
    ratelimit.reserve("medium", not_after=soon)
    before = RateLimitBucket.objects.get(category="medium").next_slot
    with pytest.raises(ZoomRateLimited, match="could not be sent within the time allowed"):
        ratelimit.reserve("medium", not_after=soon)
    assert RateLimitBucket.objects.get(category="medium").next_slot == before


def test_a_qps_429_holds_back_every_caller(sandbox: ZoomSandbox, sso_user: SandboxUser) -> None:
    sandbox.add_fault(endpoint="get_user", status=429)
    client.get_user(sso_user.email)
    bucket = RateLimitBucket.objects.get(category="light")
    assert bucket.next_slot > time.time() - 1


# --- the circuit breaker ----------------------------------------------------------------------


def test_repeated_failures_open_the_circuit_and_the_refusal_is_audited(
    helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    fields = open_confirm_form(helpdesk_client, sso_user)
    sandbox.add_fault(endpoint="revoke", status=503, times=100)
    for _ in range(circuit.FAILURE_THRESHOLD):
        with pytest.raises(ZoomServerError):
            client.revoke_sso_token(sso_user.id)
    sent = len(zoom_deletes(sandbox))

    response = helpdesk_client.post("/force-logout/", {**fields, "reason": "Incident"}, **HTMX)

    assert len(zoom_deletes(sandbox)) == sent, "an open circuit sends nothing to Zoom"
    assert "paused calls to Zoom" in text(response)
    assert "Nothing was sent" in text(response)
    row = result_row()
    assert row.outcome == Outcome.FAILED
    assert "paused" in row.detail


def test_after_the_pause_one_success_closes_the_circuit(
    sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    sandbox.add_fault(endpoint="get_user", status=500, times=circuit.FAILURE_THRESHOLD * 4)
    for _ in range(circuit.FAILURE_THRESHOLD):
        with pytest.raises(ZoomServerError):
            client.get_user(sso_user.email)
    with pytest.raises(ZoomUnavailable):
        client.get_user(sso_user.email)
    sandbox.clear_faults()
    ZoomCircuit.objects.update(open_until=time.time() - 1)  # the pause is over

    client.get_user(sso_user.email)

    state = ZoomCircuit.objects.get()
    assert (state.consecutive_failures, state.open_until) == (0, 0.0)


def test_zoom_answering_4xx_is_not_a_failure_of_zoom(sandbox: ZoomSandbox) -> None:
    for _ in range(circuit.FAILURE_THRESHOLD + 1):
        with pytest.raises(ZoomUserNotFound):
            client.get_user("nobody@globex.example.com")
    assert not ZoomCircuit.objects.filter(consecutive_failures__gt=0).exists()


# --- the per-process cap ---------------------------------------------------------------------


def test_calls_beyond_the_process_cap_are_refused_not_queued_forever(
    sandbox: ZoomSandbox, sso_user: SandboxUser, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transport, "_call_slots", threading.BoundedSemaphore(1))
    monkeypatch.setattr(transport, "CONCURRENCY_WAIT", 0.05)
    transport._slots().acquire()  # another thread's call is in flight
    try:
        with pytest.raises(ZoomBusy) as raised:
            client.get_user(sso_user.email)
    finally:
        transport._slots().release()
    assert "Nothing was sent" in raised.value.agent_message
    assert api_calls(sandbox, "get_user") == []
