"""What the helpdesk does, as functions that take the actor and leave audit rows.

``do_force_logout`` follows the intent-first rule (SECURITY.md): the intent is
committed before Zoom is called and the result is written after, so a crash in
between leaves evidence of the attempt instead of nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypedDict

from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpRequest

from zoomadmin.audit.log import record
from zoomadmin.audit.models import Action, AuditEvent, Outcome
from zoomadmin.directory.lookups import forget_missing, remember_lookup
from zoomadmin.helpdesk.targets import Target
from zoomadmin.zoom import client
from zoomadmin.zoom.errors import ZoomError, ZoomUserNotFound


@dataclass(frozen=True)
class Lookup:
    query: str
    user: client.ZoomUser | None = None
    error: ZoomError | None = None

    @property
    def not_found(self) -> bool:
        return isinstance(self.error, ZoomUserNotFound)


def look_up_user(query: str, *, request: HttpRequest) -> Lookup:
    """GET /users/{query} at Zoom and audit the search, found or not. One call to Zoom.

    The directory learns the answer: the user's row is refreshed (login types included),
    or marked gone when Zoom has no such user.
    """
    try:
        user, answer = client.get_user(query)
    except ZoomError as error:
        if isinstance(error, ZoomUserNotFound):
            forget_missing(query)
        record(
            Action.SEARCH,
            request=request,
            outcome=Outcome(error.outcome if error.outcome != "unknown" else "failed"),
            detail=f"query: {query}; {error.agent_message}",
            target_email=query if "@" in query else "",
            target_zoom_id="" if "@" in query else query,
            **_zoom_fields(error),
        )
        return Lookup(query=query, error=error)
    remember_lookup(user)
    record(
        Action.SEARCH,
        request=request,
        outcome=Outcome.SUCCESS,
        detail=f"query: {query}",
        target_zoom_id=user.id,
        target_email=user.email,
        **_answer_fields(answer),
    )
    return Lookup(query=query, user=user)


@dataclass(frozen=True)
class ForceLogoutResult:
    target: Target
    outcome: Outcome
    message: str
    retryable: bool
    intent: AuditEvent | None
    result: AuditEvent | None = None
    duplicate: bool = False

    @property
    def succeeded(self) -> bool:
        return self.outcome == Outcome.SUCCESS


class AuditUnavailable(Exception):
    """The intent could not be written, so Zoom was not called."""


class SubmissionMismatch(Exception):
    """A confirmation form's id came back with a different Zoom user: a forged post."""


def do_force_logout(
    target: Target, *, reason: str, submission_id: uuid.UUID, request: HttpRequest
) -> ForceLogoutResult:
    """Revoke the target's Zoom SSO token. Calls Zoom once; writes two audit rows.

    A second call with the same ``submission_id`` (a double click, a resent form)
    does not call Zoom again: it reports what the first one recorded.
    Raises ``AuditUnavailable`` if the intent cannot be committed, and
    ``SubmissionMismatch`` if the id was first used for another Zoom user.
    """
    try:
        # durable: the intent must be committed, not merely written, before Zoom is called.
        with transaction.atomic(durable=True):
            intent = record(
                Action.FORCE_LOGOUT_REQUESTED,
                request=request,
                target_zoom_id=target.zoom_id,
                target_email=target.email,
                reason=reason,
                detail=f"{target.name}; signs in with {target.sign_in_methods}",
                submission_id=submission_id,
            )
    except IntegrityError:
        return _earlier_submission(target, submission_id)
    except DatabaseError as error:
        raise AuditUnavailable from error

    try:
        answer = client.revoke_sso_token(target.zoom_reference)
    except ZoomError as error:
        outcome, message, retryable = Outcome(error.outcome), error.agent_message, error.retryable
        zoom = _zoom_fields(error)
    else:
        outcome, message, retryable = Outcome.SUCCESS, success_message(target), False
        zoom = _answer_fields(answer)
    result = record(
        Action.FORCE_LOGOUT_RESULT,
        request=request,
        outcome=outcome,
        target_zoom_id=target.zoom_id,
        target_email=target.email,
        reason=reason,
        detail=message,
        intent=intent,
        **zoom,
    )
    return ForceLogoutResult(
        target=target,
        outcome=outcome,
        message=message,
        retryable=retryable,
        intent=intent,
        result=result,
    )


def success_message(target: Target) -> str:
    # Zoom documents only that the SSO token is revoked and the *current* session
    # ends (ZOOM_API.md section 1): say exactly that, not "signed out everywhere".
    return f"Zoom revoked the SSO token of {target.email}; their current Zoom session is ended."


def _earlier_submission(target: Target, submission_id: uuid.UUID) -> ForceLogoutResult:
    intent = AuditEvent.objects.get(submission_id=submission_id)
    if (intent.target_zoom_id, intent.target_email) != (target.zoom_id, target.email):
        raise SubmissionMismatch
    result = intent.results.order_by("-id").first()
    if result is None:
        return ForceLogoutResult(
            target=target,
            outcome=Outcome.NONE,
            message="This force log out was already sent and is still waiting for Zoom.",
            retryable=False,
            intent=intent,
            duplicate=True,
        )
    return ForceLogoutResult(
        target=target,
        outcome=Outcome(result.outcome),
        message=result.detail,
        retryable=result.outcome != Outcome.SUCCESS,
        intent=intent,
        result=result,
        duplicate=True,
    )


class ZoomFields(TypedDict):
    """What Zoom said, as the audit row's ``zoom_*`` fields."""

    zoom_status: int | None
    zoom_error_code: int | None
    zoom_message: str
    zoom_tracking_id: str


def _zoom_fields(error: ZoomError) -> ZoomFields:
    return {
        "zoom_status": error.status,
        "zoom_error_code": error.code,
        "zoom_message": error.zoom_message,
        "zoom_tracking_id": error.tracking_id,
    }


def _answer_fields(answer: client.ZoomAnswer) -> ZoomFields:
    return {
        "zoom_status": answer.status,
        "zoom_error_code": None,
        "zoom_message": "",
        "zoom_tracking_id": answer.tracking_id,
    }
