"""The shapes of what may name a Zoom user in a request to Zoom: an id or an email."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

# Zoom user ids are 22 characters of url-safe base64 (a 16-byte id), e.g.
# "zJKyaiAyTNC-MWjiWC18KQ" (ZOOM_API.md section 2.3).
ZOOM_USER_ID = re.compile(r"[A-Za-z0-9_-]{22}")
# Zoom caps an email at 128 characters.
MAX_EMAIL_LENGTH = 128


def is_zoom_user_id(value: str) -> bool:
    return ZOOM_USER_ID.fullmatch(value) is not None


def is_email(value: str) -> bool:
    if len(value) > MAX_EMAIL_LENGTH or any(ch.isspace() for ch in value):
        return False
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def is_user_reference(value: str) -> bool:
    """True for the only things we ever put in a Zoom URL path: an id or an email."""
    return is_zoom_user_id(value) or is_email(value)
