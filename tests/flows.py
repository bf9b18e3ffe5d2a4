"""What a helpdesk agent does in the browser, as test-client steps."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

from django.test import Client

from zoomadmin.zoom.sandbox import RecordedRequest, SandboxUser, ZoomSandbox

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response
else:
    Response = Any

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/"}


def hidden_value(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no hidden field {name!r} in the page"
    return html.unescape(match.group(1))


def search(client: Client, query: str, *, htmx: bool = True) -> Response:
    return client.get("/", {"q": query}, **(HTMX if htmx else {}))


def open_confirm_form(client: Client, user: SandboxUser) -> dict[str, str]:
    """Search for ``user``, click "Force log out of Zoom": the form's hidden fields."""
    found = search(client, user.email)
    assert found.status_code == 200, found.content
    target = hidden_value(found.content.decode(), "target")
    form = client.get("/force-logout/confirm/", {"target": target}, **HTMX)
    assert form.status_code == 200, form.content
    page = form.content.decode()
    return {
        "target": hidden_value(page, "target"),
        "submission_id": hidden_value(page, "submission_id"),
    }


def force_logout(
    client: Client,
    user: SandboxUser,
    *,
    reason: str = "Laptop stolen, INC-1042",
    htmx: bool = True,
) -> Response:
    fields = open_confirm_form(client, user)
    return client.post("/force-logout/", {**fields, "reason": reason}, **(HTMX if htmx else {}))


def zoom_deletes(sandbox: ZoomSandbox) -> list[RecordedRequest]:
    return [r for r in sandbox.requests if r.host == "api" and r.method == "DELETE"]


def text(response: Response) -> str:
    """The response's visible text, roughly: tags dropped, whitespace squeezed."""
    body = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(body).split())
