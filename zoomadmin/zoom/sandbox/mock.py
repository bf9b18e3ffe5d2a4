"""A ``responses`` front for the sandbox: ``requests`` calls answered in-process.

Usage::

    with responses.RequestsMock() as rsps:
        install(sandbox, rsps, api_base_url="https://api.zoom.us/v2",
                oauth_base_url="https://zoom.us")
        ...  # code under test calls Zoom with requests

Faults are acted out without waiting: ``reset`` raises ``requests.ConnectionError`` (around
a ``ConnectionResetError``, as a real reset does); a ``delay`` at or above the request's read
timeout raises ``requests.ReadTimeout`` at once. The sandbox has already processed such a
request (a delay fault is a late answer, not a refusal), so a timed-out revoke did happen,
which is exactly the "outcome unknown" case a client must handle. Shorter delays are skipped,
unless the sandbox was given a ``sleep`` (for instance ``ManualClock.sleep``).
"""

from __future__ import annotations

import errno
import re
from typing import Any
from urllib.parse import urlsplit

import requests
import responses
from responses import CallbackResponse
from urllib3.exceptions import ProtocolError

from .core import Host, ZoomSandbox

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class _SandboxRoute(CallbackResponse):
    """One registration per base URL that answers every method.

    It always reports itself as called: the sandbox stands in for a whole service, not for
    an expected call, so ``assert_all_requests_are_fired=True`` must not fail on the parts of
    Zoom a test did not use.
    """

    def matches(self, request: requests.PreparedRequest) -> tuple[bool, str]:
        if request.method not in _METHODS:
            return False, "Method does not match"
        if not self._url_matches(self.url, str(request.url)):
            return False, "URL does not match"
        return True, ""

    @property
    def call_count(self) -> int:
        return max(1, len(self.calls))


def install(
    sandbox: ZoomSandbox,
    rsps: responses.RequestsMock,
    *,
    api_base_url: str,
    oauth_base_url: str,
) -> None:
    """Answer every request under ``api_base_url`` and ``oauth_base_url + "/oauth/"`` from
    ``sandbox``. Sets ``sandbox.api_url`` to the API origin (the token response's
    ``api_url``, §3.1). Register no other response for these URLs: ``responses`` would pick
    one of the overlapping registrations and drop the other."""
    api = api_base_url.rstrip("/")
    oauth = oauth_base_url.rstrip("/")
    parts = urlsplit(api)
    sandbox.api_url = f"{parts.scheme}://{parts.netloc}"
    # (host, URL prefix to answer, base path to strip). The OAuth registration covers only
    # /oauth/, so both bases may share one origin (the HTTP front's layout) without overlap.
    bases: tuple[tuple[Host, str, str], ...] = (
        ("api", api, parts.path),
        ("oauth", oauth + "/oauth", urlsplit(oauth).path),
    )
    for host, prefix, base_path in bases:
        rsps.add(
            _SandboxRoute(
                "GET",  # unused: _SandboxRoute.matches accepts every method
                _prefix_pattern(prefix),
                callback=_callback(sandbox, host, base_path),
                content_type=None,  # the sandbox sets Content-Type itself, or none for a 204
            )
        )


def _prefix_pattern(prefix: str) -> re.Pattern[str]:
    """URLs at or below ``prefix``: it must end there or continue with "/" or "?"."""
    return re.compile(re.escape(prefix) + r"(?:[/?].*)?\Z", re.DOTALL)


def _callback(sandbox: ZoomSandbox, host: Host, base_path: str) -> Any:
    def answer(request: requests.PreparedRequest) -> Any:
        url = urlsplit(str(request.url))
        path = url.path[len(base_path) :] or "/"
        headers = {
            name: value if isinstance(value, str) else value.decode("latin-1")
            for name, value in request.headers.items()
        }
        response = sandbox.handle(
            host, request.method or "GET", path, url.query, headers, _body_bytes(request.body)
        )
        if response.reset:
            reset = ConnectionResetError(errno.ECONNRESET, "Connection reset by peer (sandbox)")
            return requests.ConnectionError(
                ProtocolError("Connection aborted.", reset), request=request
            )
        read_timeout = _read_timeout(getattr(request, "req_kwargs", {}).get("timeout"))
        if response.delay > 0:
            if read_timeout is not None and response.delay >= read_timeout:
                return requests.ReadTimeout(
                    f"Read timed out. (read timeout={read_timeout}; sandbox delay "
                    f"{response.delay})",
                    request=request,
                )
            if sandbox.sleep is not None:
                sandbox.sleep(response.delay)
        return response.status, response.headers, response.body

    return answer


def _read_timeout(timeout: Any) -> float | None:
    """The read part of a requests timeout: a number, or the second of (connect, read)."""
    if isinstance(timeout, tuple):
        timeout = timeout[1] if len(timeout) > 1 else None
    return float(timeout) if isinstance(timeout, int | float) else None


def _body_bytes(body: object) -> bytes:
    """requests bodies are str or bytes here (responses reads file-like bodies first)."""
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    raise TypeError(f"the Zoom sandbox cannot read a {type(body).__name__} request body")
