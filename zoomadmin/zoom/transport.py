"""How every Zoom API call is made: paced, bounded, retried where safe, explained.

One call is a loop of attempts under a deadline (``INTERACTIVE_DEADLINE`` unless the
caller gives another), so a helpdesk agent has an answer in about ten seconds:

- the shared circuit breaker is checked first (``circuit``);
- each attempt waits for its rate-limit slot (``ratelimit``), then for one of this
  process's ``ZOOM_MAX_CONCURRENCY`` call slots, then sends with connect and read
  timeouts cut to what is left of the deadline;
- 401 with code 124: one new token, one more attempt;
- 429: the wait Zoom asks for (``Retry-After`` as seconds or a date, capped) or a
  jittered backoff, shared with every other process; a daily limit is not waited out;
- 5xx, connection failures, timeouts, resets and unreadable bodies: jittered backoff,
  because every endpoint we call is idempotent (reads, and the revoke: revoking a
  token twice does no harm), so sending again is safe;
- anything else (400, 403, 404) is Zoom's final answer.

Every failure ends as a ``ZoomError`` subclass whose message says what happened.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import orjson
import requests
from django.conf import settings
from django.utils.dateparse import parse_datetime

from zoomadmin.zoom import circuit, ratelimit, tokens
from zoomadmin.zoom.errors import (
    ZoomAuthFailed,
    ZoomBadResponse,
    ZoomBusy,
    ZoomError,
    ZoomNoAnswer,
    ZoomRateLimited,
    ZoomRejected,
    ZoomServerError,
    ZoomUnreachable,
    ZoomUserNotFound,
    tracking_id,
)

logger = logging.getLogger("zoomadmin.zoom.client")

TOKEN_EXPIRED_CODE = 124
INTERACTIVE_DEADLINE = 10.0  # seconds: an agent on the phone waits no longer
MAX_ATTEMPTS = 4
BACKOFF_BASE = 0.25  # seconds; doubled each attempt, with full jitter
BACKOFF_CAP = 2.0
RETRY_AFTER_CAP = 5.0  # a longer wait than this is not worth holding a request for
CONCURRENCY_WAIT = 2.0  # waiting longer for a call slot would only pile up threads


class Clock:
    """The time source of deadlines and retry pauses; tests swap in a fake one."""

    monotonic = staticmethod(time.monotonic)
    sleep = staticmethod(time.sleep)


clock = Clock()
_local = threading.local()
_call_slots: threading.BoundedSemaphore | None = None
_call_slots_lock = threading.Lock()


@dataclass
class Deadline:
    """The time a call must be answered by (monotonic clock)."""

    seconds: float | None = None  # None: INTERACTIVE_DEADLINE
    ends: float = field(init=False)

    def __post_init__(self) -> None:
        self.ends = clock.monotonic() + (
            INTERACTIVE_DEADLINE if self.seconds is None else self.seconds
        )

    def remaining(self) -> float:
        return max(0.0, self.ends - clock.monotonic())

    def as_epoch(self) -> float:
        return time.time() + self.remaining()

    def timeout(self) -> tuple[float, float]:
        connect, read = settings.ZOOM_TIMEOUT
        left = max(self.remaining(), 0.05)
        return min(connect, left), min(read, left)


@dataclass(frozen=True)
class Endpoint:
    """What the transport needs to know about an endpoint."""

    name: str
    category: ratelimit.Category


def call[T](
    endpoint: Endpoint,
    method: str,
    url: str,
    parse: Callable[[requests.Response], T],
    *,
    params: dict[str, Any] | None = None,
    deadline: Deadline | None = None,
) -> tuple[T, requests.Response]:
    """Call Zoom until it answers for good or the deadline passes. See the module doc.

    ``parse`` turns a 2xx answer into the result; raising ``ZoomBadResponse`` from it
    counts as a failed attempt. Costs: rate-limit and circuit rows in the database,
    up to ``MAX_ATTEMPTS`` requests to Zoom, and sleeping in between.
    """
    deadline = deadline or Deadline()
    # A success resets the breaker only if it had counted failures: no write per call.
    # (A failure another process counts meanwhile is reset by the next call that sees it.)
    failures_seen = circuit.ensure_closed()
    token = _first_token()
    token_renewed = False
    uncertain: ZoomError | None = None  # an attempt Zoom may have acted on
    attempt = 0
    while True:
        attempt += 1
        try:
            response = _attempt(endpoint, method, url, token, params, deadline)
            if _is_expired_token(response) and not token_renewed:
                # Zoom's 124 does not say expired or revoked: one new token, one retry.
                token = tokens.access_token(stale=token)
                token_renewed = True
                attempt -= 1
                continue
            if response.status_code == 429:
                _handle_429(endpoint, response, attempt, deadline)
                continue
            if response.status_code >= 400:
                raise error_from_response(response)
            result = parse(response)
        except (ZoomServerError, ZoomUnreachable, ZoomNoAnswer, ZoomBadResponse) as error:
            if error.outcome == "unknown":
                uncertain = error
            pause = _backoff(attempt)
            if attempt >= MAX_ATTEMPTS or pause >= deadline.remaining():
                final = _gave_up(error, attempt, uncertain)
                circuit.record_failure(final)
                raise final from None
            clock.sleep(pause)
            continue
        except ZoomError as error:
            if error.status is not None and failures_seen:
                # Zoom answered (404, 400, a 429 given up): it is up, whatever it said.
                circuit.record_success()
            if not isinstance(error, ZoomUserNotFound):
                circuit.record_error(error)
            raise
        if failures_seen:
            circuit.record_success()
        return result, response


def _first_token() -> str:
    """The access token for a call. Zoom's sign-in service failing counts like Zoom
    failing (it opens the circuit after as many failures in a row), and any other
    refusal is kept for the connection page; a renewal inside the retry loop is counted
    there already."""
    try:
        return tokens.access_token()
    except (ZoomServerError, ZoomUnreachable, ZoomNoAnswer) as error:
        circuit.record_failure(error)
        raise
    except ZoomError as error:
        circuit.record_error(error)
        raise


def _attempt(
    endpoint: Endpoint,
    method: str,
    url: str,
    token: str,
    params: dict[str, Any] | None,
    deadline: Deadline,
) -> requests.Response:
    ratelimit.wait_for_slot(endpoint.category, not_after=deadline.as_epoch(), sleep=clock.sleep)
    slots = _slots()
    if not slots.acquire(timeout=min(CONCURRENCY_WAIT, deadline.remaining())):
        raise ZoomBusy(
            "This server already has as many Zoom calls in flight as it allows, and none "
            "finished in time."
        )
    try:
        response = _send(method, url, token, params, deadline)
    finally:
        slots.release()
    # Method, path (an id or email, never free text), status and Zoom's tracking id:
    # enough to match a complaint with Zoom's logs, and never a token.
    logger.info(
        "zoom %s %s -> %s %s",
        method,
        url.removeprefix(settings.ZOOM_API_BASE_URL),
        response.status_code,
        tracking_id(response),
    )
    return response


def _slots() -> threading.BoundedSemaphore:
    """This process's cap on concurrent Zoom calls, kept below the server's thread count,
    so a slow Zoom can never occupy every thread and starve the other pages."""
    global _call_slots
    with _call_slots_lock:
        if _call_slots is None:
            _call_slots = threading.BoundedSemaphore(settings.ZOOM_MAX_CONCURRENCY)
        return _call_slots


def _session() -> requests.Session:
    # One pooled session per thread: requests' Session is not documented thread-safe.
    session: requests.Session | None = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        session.headers["Accept"] = "application/json"
        _local.session = session
    return session


def _send(
    method: str, url: str, token: str, params: dict[str, Any] | None, deadline: Deadline
) -> requests.Response:
    timeout = deadline.timeout()
    try:
        return _session().request(
            method,
            url,
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.exceptions.ConnectTimeout:
        raise ZoomUnreachable("Zoom could not be reached in time.") from None
    except requests.exceptions.ReadTimeout:
        raise ZoomNoAnswer(f"Zoom did not answer within {timeout[1]:.0f} seconds.") from None
    except requests.exceptions.ConnectionError as error:
        if _never_sent(error):
            raise ZoomUnreachable("Zoom could not be reached.") from None
        raise ZoomNoAnswer("The connection to Zoom broke before Zoom answered.") from None
    except requests.RequestException:
        raise ZoomNoAnswer("The request to Zoom failed before Zoom answered.") from None


def _never_sent(error: BaseException) -> bool:
    """True when the connection was never made, so Zoom cannot have acted."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return True
        if type(current).__name__ in {"NewConnectionError", "NameResolutionError"}:
            return True
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            current = reason
        else:
            current = current.__cause__ or current.__context__
    return False


def _backoff(attempt: int) -> float:
    """Full jitter: spreads the retries of many callers instead of synchronising them."""
    return random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))  # noqa: S311


def _gave_up(error: ZoomError, attempts: int, uncertain: ZoomError | None = None) -> ZoomError:
    """The error to report after the last attempt, saying how often we tried.

    If an earlier attempt may have reached Zoom (no answer), a later clear failure does
    not prove nothing happened: the outcome stays unknown.
    """
    tries = "once" if attempts == 1 else f"{attempts} times"
    if uncertain is not None and error.outcome != "unknown":
        return ZoomNoAnswer(
            f"{uncertain.explanation} Retrying then failed: {error.explanation} (tried {tries})",
            status=error.status,
            code=error.code,
            zoom_message=error.zoom_message,
            tracking_id=error.tracking_id,
        )
    error.explanation = f"{error.explanation} (tried {tries})"
    return error


def _is_expired_token(response: requests.Response) -> bool:
    # The spec lists code 124 under 400; live Zoom answers 401 (ZOOM_API.md section 5).
    return response.status_code in (400, 401) and error_body(response)[0] == TOKEN_EXPIRED_CODE


def _handle_429(
    endpoint: Endpoint, response: requests.Response, attempt: int, deadline: Deadline
) -> None:
    """Wait as Zoom asks and return, or raise when waiting cannot help in time."""
    error = error_from_response(response)
    assert isinstance(error, ZoomRateLimited)  # noqa: S101 - error_from_response maps 429 so
    if is_daily_limit(response):
        until = retry_after_epoch(response) or _next_midnight_utc()
        ratelimit.block_until(endpoint.category, until)
        raise ratelimit.daily_limit_error(endpoint.category, until) from None
    wait = _wait_asked(response)
    pause = wait if wait is not None else _backoff(attempt)
    # Every process shares the account's quota, so every process waits: the pause goes
    # into the shared slots, and this call's next attempt waits for its slot like any other.
    ratelimit.hold_back(endpoint.category, pause)
    if attempt >= MAX_ATTEMPTS or pause >= deadline.remaining():
        raise _gave_up(
            ZoomRateLimited(
                "Zoom kept answering that the account's rate limit is reached (other apps "
                "share it), so nothing was done.",
                status=429,
                code=error.code,
                zoom_message=error.zoom_message,
                tracking_id=error.tracking_id,
            ),
            attempt,
        )


def is_daily_limit(response: requests.Response) -> bool:
    kind = response.headers.get("X-RateLimit-Type", "").lower()
    return kind.startswith("daily") or "daily" in error_body(response)[1].lower()


def retry_after_epoch(response: requests.Response) -> float | None:
    """``Retry-After`` as an epoch time: seconds, an HTTP date or Zoom's ISO date-time."""
    raw = response.headers.get("Retry-After", "").strip()
    if not raw:
        return None
    if raw.isdigit():
        return time.time() + int(raw)
    moment = parse_datetime(raw)
    if moment is None:
        try:
            moment = parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _wait_asked(response: requests.Response) -> float | None:
    """How long Zoom asks us to wait, capped; ``X-RateLimit-Reset`` as a fallback."""
    until = retry_after_epoch(response)
    if until is None:
        reset = response.headers.get("X-RateLimit-Reset", "")
        until = float(reset) if reset.isdigit() else None
    if until is None:
        return None
    return min(max(until - time.time(), 0.0), RETRY_AFTER_CAP)


def _next_midnight_utc() -> float:
    day = 86_400
    return (time.time() // day + 1) * day


def error_body(response: requests.Response) -> tuple[int | None, str]:
    """Zoom's ``{"code": int, "message": str}``, as far as the answer has one."""
    try:
        body = response.json()
    except ValueError:
        return None, ""
    if not isinstance(body, dict):
        return None, ""
    code, message = body.get("code"), body.get("message")
    return (code if isinstance(code, int) else None), (
        message[:1000] if isinstance(message, str) else ""
    )


def json_body(response: requests.Response) -> object:
    try:
        # orjson reads the bytes as they came (JSON is UTF-8), twice as fast as json.
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise ZoomBadResponse(
            "Zoom sent an answer we cannot read.",
            status=response.status_code,
            tracking_id=tracking_id(response),
        ) from None


def error_from_response(response: requests.Response) -> ZoomError:
    """Map an error answer from Zoom to the exception a view knows how to explain."""
    status = response.status_code
    code, message = error_body(response)
    details: dict[str, Any] = {
        "status": status,
        "code": code,
        "zoom_message": message,
        "tracking_id": tracking_id(response),
    }
    said = f" Zoom said: “{message}”" if message else ""
    if status == 404:
        return ZoomUserNotFound("Zoom has no such user.", **details)
    if status == 429:
        return ZoomRateLimited("Zoom is rate limiting us.", **details)
    if status == 401:
        return ZoomAuthFailed(f"Zoom refused our access token.{said}", **details)
    if status >= 500:
        return ZoomServerError(f"Zoom had an internal error (HTTP {status}).{said}", **details)
    if 300 <= status < 400:
        return ZoomBadResponse(f"Zoom answered with an unexpected redirect ({status}).", **details)
    return ZoomRejected(f"Zoom refused the request (HTTP {status}).{said}", **details)
