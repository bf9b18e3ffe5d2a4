"""Cross-cutting request plumbing: request ids for logs and audit rows, health checks."""

from __future__ import annotations

import contextvars
import logging
import secrets
from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def current_request_id() -> str:
    return _request_id.get()


class RequestIdMiddleware:
    """Give every request an id, echoed in ``X-Request-ID``, the logs and the audit rows.

    The id is generated here, never taken from the client, so an audit row's request id
    can be trusted to match the server's own log lines.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request_id = secrets.token_hex(8)
        request.request_id = request_id  # type: ignore[attr-defined]
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class HealthCheckMiddleware:
    """Answer ``/healthz`` before host validation.

    Container and load-balancer probes call the app by IP or container name, which
    ALLOWED_HOSTS rightly does not list; the probe needs no host and reveals nothing.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        # Imported once, here: at module level it would be circular (views -> audit.log
        # -> this module's current_request_id).
        from zoomadmin.views import healthz

        self.get_response = get_response
        self.healthz = healthz

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path == "/healthz" and request.method == "GET":
            return self.healthz(request)
        return self.get_response(request)
