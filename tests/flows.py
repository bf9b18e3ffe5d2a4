"""What a helpdesk agent does in the browser, as test-client steps, and reading the pages."""

from __future__ import annotations

import html
import re
import uuid
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

from django.test import Client

from zoomadmin.helpdesk.targets import Target
from zoomadmin.zoom.sandbox import RecordedRequest, SandboxUser, ZoomSandbox

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response
else:
    Response = Any

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/"}
REASON = "Laptop stolen, INC-1042"


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
    reason: str = REASON,
    htmx: bool = True,
) -> Response:
    fields = open_confirm_form(client, user)
    return client.post("/force-logout/", {**fields, "reason": reason}, **(HTMX if htmx else {}))


def signed_target(user: SandboxUser) -> str:
    """``user`` as a search result carries them to the confirmation form: signed."""
    return Target(
        zoom_id=user.id,
        email=user.email,
        name=user.name,
        status=user.status,
        login_types=user.login_types,
    ).sign()


def force_logout_fields(user: SandboxUser, *, reason: str = REASON) -> dict[str, str]:
    """A complete, valid force-logout form for ``user``, without the search before it."""
    return {
        "target": signed_target(user),
        "submission_id": str(uuid.uuid4()),
        "reason": reason,
    }


def zoom_deletes(sandbox: ZoomSandbox) -> list[RecordedRequest]:
    return [r for r in sandbox.requests if r.host == "api" and r.method == "DELETE"]


def text(response: Response) -> str:
    """The response's visible text, roughly: tags dropped, whitespace squeezed."""
    body = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(body).split())


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def tags_of(page: str) -> list[tuple[str, dict[str, str | None]]]:
    """Every start tag of ``page`` with its attributes, in document order."""
    parser = _Tags()
    parser.feed(page)
    parser.close()
    return parser.tags
