"""A real HTTP front for the sandbox, on loopback, for the run command and end-to-end tests.

One origin serves both Zoom hosts: ``/v2/...`` is the API host and ``/oauth/...`` the OAuth
host, so ``ZOOM_API_BASE_URL=http://127.0.0.1:8010/v2`` and
``ZOOM_OAUTH_BASE_URL=http://127.0.0.1:8010`` both point here. ``/_sandbox/...`` holds JSON
control endpoints for demonstrations and tests.

Usage::

    server = make_server(ZoomSandbox(), port=8010)
    server.serve_forever()
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import urlsplit

from .core import Host, SandboxResponse, ZoomSandbox, is_loopback

MAX_BODY = 1_000_000  # far above any Zoom request this project makes

_FAULT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "endpoint": str,
    "times": int,
    "status": int,
    "code": int,
    "message": str,
    "delay": (int, float),
    "reset": bool,
    "headers": dict,
}
# null means "the default" only where add_fault's own default is None.
_NULLABLE_FAULT_FIELDS = frozenset({"status", "code", "message", "headers"})


class SandboxServer(ThreadingHTTPServer):
    """A ``ThreadingHTTPServer`` that knows its sandbox and keeps failures off stderr."""

    daemon_threads = True  # a thread sleeping out a delay fault must not block shutdown
    block_on_close = False

    def __init__(self, address: tuple[str, int], sandbox: ZoomSandbox, *, verbose: bool) -> None:
        self.sandbox = sandbox
        self.verbose = verbose
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    @property
    def origin(self) -> str:
        host, port = self.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{f'[{host}]' if ':' in host else host}:{port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out and hang up are part of the sandbox's job, not errors.
        if self.verbose:
            super().handle_error(request, client_address)


def make_server(
    sandbox: ZoomSandbox,
    host: str = "127.0.0.1",
    port: int = 8010,
    *,
    verbose: bool = False,
    allow_remote: bool = False,
) -> SandboxServer:
    """Bind the sandbox to ``host:port`` (port 0 picks a free port); the caller runs
    ``serve_forever()``. Refuses non-loopback addresses unless ``allow_remote``: the control
    endpoints have no authentication.

    Sets ``sandbox.api_url`` to this origin, so token responses point clients here (§3.1).
    """
    if not allow_remote and not is_loopback(host):
        raise ValueError(f"refusing to serve the Zoom sandbox on non-loopback host {host!r}")
    server = SandboxServer((host, port), sandbox, verbose=verbose)
    sandbox.api_url = server.origin
    return server


class _Handler(BaseHTTPRequestHandler):
    server: SandboxServer
    protocol_version = "HTTP/1.1"  # keep-alive, as clients use with Zoom
    server_version = "ZoomSandbox/1.0"

    def version_string(self) -> str:
        return self.server_version

    _CONTROL: ClassVar[dict[tuple[str, str], str]] = {
        ("POST", "/_sandbox/faults"): "_add_fault",
        ("DELETE", "/_sandbox/faults"): "_clear_faults",
        ("POST", "/_sandbox/expire-tokens"): "_expire_tokens",
        ("POST", "/_sandbox/revoke-tokens"): "_revoke_tokens",
        ("GET", "/_sandbox/state"): "_state",
        ("GET", "/_sandbox/revocations"): "_revocations",
    }

    # http.server calls do_<METHOD>; every method goes through one dispatcher.
    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        body = self._read_body()
        if body is None:
            return
        path = parts.path
        if path == "/v2" or path.startswith("/v2/"):
            self._answer_zoom("api", path[3:] or "/", parts.query, body)
        elif path.startswith("/oauth/"):
            self._answer_zoom("oauth", path, parts.query, body)
        elif path.startswith("/_sandbox/"):
            self._control(path, body)
        else:
            self._send_json(404, {"error": "not a Zoom sandbox path"})

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            self._send_json(411, {"error": "send a Content-Length; chunked bodies are not read"})
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            self._send_json(413, {"error": "body too large or bad Content-Length"})
            return None
        return self.rfile.read(length) if length else b""

    def _answer_zoom(self, host: Host, path: str, query: str, body: bytes) -> None:
        sandbox = self.server.sandbox
        response = sandbox.handle(host, self.command, path, query, dict(self.headers.items()), body)
        if response.delay > 0:
            (sandbox.sleep or time.sleep)(response.delay)
        if response.reset:
            self._reset_connection()
            return
        self._send(response)

    def _reset_connection(self) -> None:
        """Close with a TCP RST and no response: the client sees a connection reset."""
        self.close_connection = True
        try:
            # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def _send(self, response: SandboxResponse) -> None:
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            bodiless = response.status in (204, 304)  # RFC 9110: no Content-Length on these
            if not bodiless:
                self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD" and not bodiless:
                self.wfile.write(response.body)
        except OSError:
            # The client gave up (a read timeout during a delay fault): nothing to answer.
            self.close_connection = True

    def _send_json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload, indent=2).encode("utf-8") + b"\n"
        headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
        self._send(SandboxResponse(status, headers, body))

    def finish(self) -> None:
        with contextlib.suppress(OSError):  # the socket was reset, on purpose or by the client
            super().finish()

    # --- Control endpoints -----------------------------------------------------------------------

    def _control(self, path: str, body: bytes) -> None:
        name = self._CONTROL.get((self.command, path.rstrip("/")))
        if name is None:
            self._send_json(404, {"error": f"no control endpoint {self.command} {path}"})
            return
        try:
            document = json.loads(body) if body.strip() else {}
        except ValueError:
            self._send_json(400, {"error": "the body must be JSON"})
            return
        try:
            status, payload = getattr(self, name)(document)
        except (TypeError, ValueError) as error:
            self._send_json(400, {"error": str(error)})
            return
        self._send_json(status, payload)

    def _add_fault(self, document: Any) -> tuple[int, Any]:
        if not isinstance(document, dict):
            raise ValueError("expected a JSON object")
        for key, value in document.items():
            expected = _FAULT_FIELDS.get(key)
            if expected is None:
                raise ValueError(f"unknown field {key!r}; fields: {sorted(_FAULT_FIELDS)}")
            if value is None:
                if key not in _NULLABLE_FAULT_FIELDS:
                    raise ValueError(f"field {key!r} cannot be null")
                continue
            # bool is an int in Python; a JSON true or false is not a status or a count.
            if not isinstance(value, expected) or (expected is not bool and type(value) is bool):
                raise ValueError(f"field {key!r} has the wrong type")
        if "endpoint" not in document:
            raise ValueError("field 'endpoint' is required")
        self.server.sandbox.add_fault(**document)
        return 201, {"added": document, "state": self.server.sandbox.state()}

    def _clear_faults(self, _document: Any) -> tuple[int, Any]:
        self.server.sandbox.clear_faults()
        return 200, {"cleared": True}

    def _expire_tokens(self, _document: Any) -> tuple[int, Any]:
        return 200, {"expired": self.server.sandbox.expire_access_tokens()}

    def _revoke_tokens(self, _document: Any) -> tuple[int, Any]:
        return 200, {"revoked": self.server.sandbox.revoke_all_tokens()}

    def _state(self, _document: Any) -> tuple[int, Any]:
        return 200, self.server.sandbox.state()

    def _revocations(self, _document: Any) -> tuple[int, Any]:
        revocations = [
            {"user_id": r.user_id, "email": r.email, "at": r.at_iso, "sso": r.sso}
            for r in self.server.sandbox.revocations
        ]
        return 200, {"revocations": revocations}
