"""Steps and readings the helpdesk tests share (tests/flows.py has the agent's own steps)."""

from __future__ import annotations

from tests.flows import hidden_value
from zoomadmin.zoom.sandbox import ZoomSandbox


def api_requests(sandbox: ZoomSandbox) -> list[tuple[str, str]]:
    """(method, path) of every request the product sent to Zoom's API, in order."""
    return [(r.method, r.path) for r in sandbox.requests if r.host == "api"]


def confirm_form_fields(page: str) -> dict[str, str]:
    """The hidden fields of a rendered confirm form: what its submit posts back."""
    return {name: hidden_value(page, name) for name in ("target", "submission_id")}
