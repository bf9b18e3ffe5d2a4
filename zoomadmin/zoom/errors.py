"""The few ways a Zoom call fails, each with words a helpdesk agent can act on.

Views catch ``ZoomError``; ``outcome`` says what the audit row records ("failed":
Zoom certainly did not act; "unknown": it may have; "not_found"), ``explanation``
what happened and ``advice`` whether trying again helps. ``tracking_id`` reads the id
Zoom gives each answer, which errors and audit rows carry.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    import requests

TRACKING_ID_LENGTH = 255  # the audit row's zoom_tracking_id column


def tracking_id(response: requests.Response) -> str:
    """Zoom's id of one answer (``x-zm-trackingid``), to match a complaint with Zoom's logs.

    One reader for the API and the OAuth host alike, so the value always fits the audit row.
    """
    return response.headers.get("x-zm-trackingid", "")[:TRACKING_ID_LENGTH]


class ZoomError(Exception):
    outcome: ClassVar[str] = "failed"
    retryable: ClassVar[bool] = False
    advice: ClassVar[str] = "Trying again will not help; ask an administrator."

    def __init__(
        self,
        explanation: str,
        *,
        status: int | None = None,
        code: int | None = None,
        zoom_message: str = "",
        tracking_id: str = "",
    ) -> None:
        super().__init__(explanation)
        self.explanation = explanation
        self.status = status
        self.code = code
        self.zoom_message = zoom_message
        self.tracking_id = tracking_id

    @property
    def agent_message(self) -> str:
        return f"{self.explanation} {self.advice}"


class ZoomNotConfigured(ZoomError):
    """No Zoom credentials, or an OAuth app nobody has connected yet."""

    advice = "The Zoom connection needs an administrator."


class ZoomAuthFailed(ZoomError):
    """Zoom refused our credentials or token even after fetching a new one."""

    advice = "The Zoom connection needs an administrator."


class ZoomUserNotFound(ZoomError):
    outcome = "not_found"
    advice = "Check the email address or Zoom user ID; trying again will not help."


class ZoomRejected(ZoomError):
    """Zoom refused the request itself (400 or 403): a scope, plan or account problem."""

    advice = "Trying again will not help; an administrator must check the Zoom app."


class ZoomRateLimited(ZoomError):
    retryable = True

    def __init__(
        self,
        explanation: str,
        *,
        resets_at: datetime | None = None,
        status: int | None = None,
        code: int | None = None,
        zoom_message: str = "",
        tracking_id: str = "",
    ) -> None:
        super().__init__(
            explanation,
            status=status,
            code=code,
            zoom_message=zoom_message,
            tracking_id=tracking_id,
        )
        self.resets_at = resets_at

    @property
    def agent_message(self) -> str:
        if self.resets_at is not None:
            return (
                f"{self.explanation} Zoom accepts more requests from "
                f"{self.resets_at:%Y-%m-%d %H:%M} UTC."
            )
        return f"{self.explanation} Wait a few seconds, then try again."


class ZoomServerError(ZoomError):
    retryable = True
    advice = "It is safe to try again: a second revoke does no harm."


class ZoomUnreachable(ZoomError):
    """The request never reached Zoom (refused, DNS, connect timeout)."""

    retryable = True
    advice = "Nothing was sent; try again in a moment."


class ZoomNoAnswer(ZoomError):
    """The request was sent but no answer came (read timeout, dropped connection)."""

    outcome = "unknown"
    retryable = True
    advice = (
        "Zoom may or may not have acted. It is safe to try again: a second revoke does no harm."
    )


class ZoomBadResponse(ZoomError):
    """Zoom answered with something we cannot read."""

    outcome = "unknown"
    retryable = True
    advice = "It is safe to try again."


class ZoomConnectionBroken(ZoomNotConfigured):
    """Zoom refused our refresh token for good (invalid_grant): an administrator must
    reconnect the OAuth app. Nothing is sent to Zoom until then."""


class ZoomUnavailable(ZoomError):
    """The circuit breaker is open: Zoom failed repeatedly, so calls are paused."""

    retryable = True

    def __init__(self, explanation: str, *, reopens_at: datetime) -> None:
        super().__init__(explanation)
        self.reopens_at = reopens_at

    @property
    def agent_message(self) -> str:
        return (
            f"{self.explanation} Nothing was sent. The dashboard tries Zoom again from "
            f"{self.reopens_at:%H:%M:%S} UTC."
        )


class ZoomBusy(ZoomError):
    """Too many Zoom calls are in flight from this server process; nothing was sent."""

    retryable = True
    advice = "Nothing was sent; try again in a moment."
