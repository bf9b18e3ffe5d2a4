"""`manage.py zoom_sandbox_fault`: faults injected into the running sandbox for a demo."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO

import pytest
import requests
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django.fixtures import Settings

from tests.servers import serving
from zoomadmin.zoom.sandbox import ZoomSandbox


@pytest.fixture
def running_sandbox(settings: Settings) -> Iterator[ZoomSandbox]:
    fake = ZoomSandbox(user_count=5)
    with serving(fake) as origin:
        settings.ZOOM_SANDBOX = True
        settings.ZOOM_API_BASE_URL = f"{origin}/v2"
        yield fake


def test_a_fault_makes_the_next_calls_fail(running_sandbox: ZoomSandbox) -> None:
    out = StringIO()
    call_command("zoom_sandbox_fault", "revoke", "--status", "503", "--times", "2", stdout=out)

    assert "next 2 revoke call(s) will fail" in out.getvalue()
    token = running_sandbox.issue_access_token()
    user = running_sandbox.users[0]
    origin = running_sandbox.api_url
    statuses = [
        requests.delete(
            f"{origin}/v2/users/{user.id}/token",
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [503, 503, 204]


def test_clear_and_expire(running_sandbox: ZoomSandbox) -> None:
    call_command("zoom_sandbox_fault", "get_user", "--delay", "5", stdout=StringIO())
    assert running_sandbox.state()["pending_faults"] == 1
    call_command("zoom_sandbox_fault", "--clear", stdout=StringIO())
    assert running_sandbox.state()["pending_faults"] == 0
    running_sandbox.issue_access_token()
    call_command("zoom_sandbox_fault", "--expire-tokens", stdout=StringIO())
    assert running_sandbox.state()["live_tokens"] == 0


def test_outside_sandbox_mode_it_refuses(settings: Settings) -> None:
    settings.ZOOM_SANDBOX = False
    with pytest.raises(CommandError, match="ZOOM_SANDBOX=1"):
        call_command("zoom_sandbox_fault", "revoke", "--status", "503")


def test_a_sandbox_that_is_not_running_is_reported(settings: Settings) -> None:
    settings.ZOOM_SANDBOX = True
    settings.ZOOM_API_BASE_URL = "http://127.0.0.1:9/v2"
    with pytest.raises(CommandError, match="not running"):
        call_command("zoom_sandbox_fault", "revoke", "--status", "503")
