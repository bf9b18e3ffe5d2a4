"""What the sandbox tests share: its default app's Basic auth and a manual clock.

The sandbox over real HTTP (``serving``) is in tests/servers.py, for tests outside this
folder too.

The ``sandbox`` fixture of tests/conftest.py (the sandbox behind ``responses``) is not
overridden here: the core's own tests define their smaller, clock-driven one per module.
"""

from __future__ import annotations

import base64

import pytest

from zoomadmin.zoom.sandbox import ManualClock

# The client pair a ZoomSandbox has unless told otherwise.
BASIC = "Basic " + base64.b64encode(b"sandbox-client:sandbox-secret").decode()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()
