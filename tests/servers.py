"""Live servers for tests: the Zoom sandbox over real HTTP (a helper module, not tests)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from zoomadmin.zoom.sandbox import ZoomSandbox
from zoomadmin.zoom.sandbox.server import make_server


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
