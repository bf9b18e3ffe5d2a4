"""Writing audit rows. Every part of the product records through ``record()``."""

from __future__ import annotations

import getpass
import os
import socket
import uuid

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest

from zoomadmin.audit.models import Action, AuditEvent, Outcome
from zoomadmin.middleware import current_request_id

# The column's own limit: a longer header (client-controlled) is cut, not refused.
_MAX_USER_AGENT = AuditEvent._meta.get_field("user_agent").max_length


def command_runner() -> str:
    """The operating-system account and host running a management command, for its
    audit row (a command has no signed-in staff member)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (some containers)
        user = f"uid {os.getuid()}"
    return f"{user} on {socket.gethostname()}"


def client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a proxy we trust
    # rewrites it, and an audit row must not record what an attacker typed.
    return request.META.get("REMOTE_ADDR") or None


def record(
    action: Action,
    *,
    request: HttpRequest | None = None,
    actor: AbstractBaseUser | AnonymousUser | None = None,
    actor_username: str | None = None,
    outcome: Outcome = Outcome.NONE,
    target_zoom_id: str = "",
    target_email: str = "",
    reason: str = "",
    detail: str = "",
    zoom_status: int | None = None,
    zoom_error_code: int | None = None,
    zoom_message: str = "",
    zoom_tracking_id: str = "",
    intent: AuditEvent | None = None,
    submission_id: uuid.UUID | None = None,
) -> AuditEvent:
    """Append one audit row at the head of the hash chain and return it.

    Commits at once unless the caller is inside a transaction; either way the append
    lock (chain.py) is held until that transaction ends, so keep such transactions
    short. Two or three small queries. ``actor`` defaults to the request's user; the
    username is frozen on the row so the evidence survives a renamed or deactivated
    account.
    """
    if actor is None and request is not None:
        actor = request.user
    user = actor if isinstance(actor, User) else None
    if actor_username is None:
        actor_username = user.get_username() if user is not None else ""
    return AuditEvent.objects.create(
        action=action,
        actor=user,
        actor_username=actor_username,
        outcome=outcome,
        target_zoom_id=target_zoom_id,
        target_email=target_email,
        reason=reason,
        detail=detail,
        zoom_status=zoom_status,
        zoom_error_code=zoom_error_code,
        zoom_message=zoom_message,
        zoom_tracking_id=zoom_tracking_id,
        client_ip=client_ip(request) if request is not None else None,
        user_agent=(
            request.headers.get("User-Agent", "")[:_MAX_USER_AGENT] if request is not None else ""
        ),
        request_id=current_request_id() if request is not None else "",
        intent=intent,
        submission_id=submission_id,
    )


def record_denied(request: HttpRequest, why: str) -> AuditEvent:
    """Record a permission refusal: who tried which URL, and why they were refused."""
    return record(
        Action.DENIED,
        request=request,
        outcome=Outcome.DENIED,
        detail=f"{request.method} {request.path}: {why}",
    )
