"""Zoom's sign-in service failing while the dashboard needs a token: counted like Zoom
failing, so the circuit opens and the connection page shows the error."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from tests.conftest import signed_in
from tests.flows import text
from zoomadmin.zoom import circuit, client
from zoomadmin.zoom.errors import ZoomAuthFailed, ZoomServerError, ZoomUnavailable
from zoomadmin.zoom.models import ZoomCircuit
from zoomadmin.zoom.sandbox import SandboxUser, ZoomSandbox

pytestmark = pytest.mark.django_db


def token_requests(sandbox: ZoomSandbox) -> int:
    return sum(1 for r in sandbox.requests if r.host == "oauth" and r.endpoint == "token")


def test_repeated_token_failures_open_the_circuit(
    sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    sandbox.add_fault(endpoint="token", status=503, times=100)
    for _ in range(circuit.FAILURE_THRESHOLD):
        with pytest.raises(ZoomServerError):
            client.get_user(sso_user.email)
    asked = token_requests(sandbox)

    with pytest.raises(ZoomUnavailable):
        client.get_user(sso_user.email)

    assert token_requests(sandbox) == asked, "an open circuit asks Zoom for nothing"
    state = ZoomCircuit.objects.get()
    assert state.consecutive_failures == circuit.FAILURE_THRESHOLD
    assert "sign-in service" in state.last_error


def test_a_refused_token_is_shown_on_the_connection_page(
    sandbox: ZoomSandbox, sso_user: SandboxUser, superuser: User
) -> None:
    sandbox.add_fault(endpoint="token", status=401, times=1)
    with pytest.raises(ZoomAuthFailed):
        client.get_user(sso_user.email)

    state = ZoomCircuit.objects.get()
    assert state.consecutive_failures == 0, "a refusal is not an outage"
    assert state.last_error
    assert state.last_error[:40] in text(signed_in(superuser).get("/zoom/"))
