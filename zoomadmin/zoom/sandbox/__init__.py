"""The Zoom sandbox: a pure-Python fake of Zoom's Users API and OAuth hosts.

``ZoomSandbox`` is the core (``handle()`` answers one request); ``server.make_server`` puts it
behind real HTTP on loopback, and ``mock.install`` behind ``responses`` for tests. The core
uses the standard library only.
"""

from .core import (
    FAULT_ENDPOINTS,
    QPS_LIMITS,
    ManualClock,
    RecordedRequest,
    Revocation,
    SandboxResponse,
    ZoomSandbox,
)
from .directory import SandboxUser, seed_users

__all__ = [
    "FAULT_ENDPOINTS",
    "QPS_LIMITS",
    "ManualClock",
    "RecordedRequest",
    "Revocation",
    "SandboxResponse",
    "SandboxUser",
    "ZoomSandbox",
    "seed_users",
]
