"""Directory rows made directly, as a sync would have written them."""

from __future__ import annotations

import base64
import hashlib

from django.utils import timezone

from zoomadmin.directory.models import DirectoryUser
from zoomadmin.directory.pages import PENDING_KEY_PREFIX, listed_values
from zoomadmin.zoom.client import ZoomUser


def fake_id(email: str) -> str:
    """A stable 22-character Zoom-shaped id for an email."""
    digest = hashlib.sha256(email.encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def add_directory_user(
    email: str,
    first_name: str = "",
    last_name: str = "",
    *,
    display_name: str = "",
    zoom_id: str | None = None,
    status: str = "active",
    login_types: list[int] | None = None,
    gone: bool = False,
) -> DirectoryUser:
    zoom_id = fake_id(email) if zoom_id is None else zoom_id
    user = ZoomUser(
        id=zoom_id,
        email=email,
        first_name=first_name,
        last_name=last_name,
        display_name=display_name or f"{first_name} {last_name}".strip(),
        status=status,
        type=2,
        dept="",
        login_types=(),
        last_login_time=None,
    )
    return DirectoryUser.objects.create(
        key=zoom_id or PENDING_KEY_PREFIX + email.lower(),
        login_types=login_types,
        gone_at=timezone.now() if gone else None,
        **listed_values(user),  # type: ignore[arg-type]
    )
