"""What the sandbox tests share: its default app's Basic auth, a manual clock, a live server.

The ``sandbox`` fixture of tests/conftest.py (the sandbox behind ``responses``) is not
overridden here: the core's own tests define their smaller, clock-driven one per module.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from zoomadmin.zoom.sandbox import ManualClock, ZoomSandbox
from zoomadmin.zoom.sandbox.server import make_server

# The client pair a ZoomSandbox has unless told otherwise.
BASIC = "Basic " + base64.b64encode(b"sandbox-client:sandbox-secret").decode()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@contextmanager
def serving(sandbox: ZoomSandbox) -> Iterator[str]:
    """The sandbox over real HTTP on a free loopback port, in a thread; yields its origin.

    The server polls for shutdown every 50 ms, so stopping it does not slow the tests.
    """
    server = make_server(sandbox, port=0)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.origin
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
