"""The Zoom sandbox: a pure-Python fake of Zoom's API host and OAuth host.

``ZoomSandbox.handle()`` answers one request. It never sleeps and never touches a socket:
faults that need acting out (a slow answer, a dropped connection) come back as
``SandboxResponse.delay`` and ``SandboxResponse.reset`` for the front (``server.py`` for real
HTTP, ``mock.py`` for ``responses``) to perform.

Every Zoom behaviour cites its section of ``ZOOM_API.md`` (the sourced contract; §7 is the
contract for a fake). Token values are never logged, recorded or exposed: recorded requests
carry redacted headers and bodies, and tokens are referred to by a serial such as ``at-3``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import math
import random
import secrets
import string
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Any, Final, Literal, cast, get_args
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from .directory import DAY, ROLE_ADMIN, ROLE_OWNER, SandboxUser, iso_utc, seed_users, zoom_id

Host = Literal["api", "oauth"]
Plan = Literal["free", "pro", "business"]
Category = Literal["light", "medium", "heavy"]

# §4: per-second limits per plan and category; Business+ covers Business and Enterprise.
QPS_LIMITS: Final[dict[Plan, dict[Category, int]]] = {
    "free": {"light": 4, "medium": 2, "heavy": 1},
    "pro": {"light": 30, "medium": 20, "heavy": 10},
    "business": {"light": 80, "medium": 60, "heavy": 40},
}
# §4: daily limits, reset at 00:00 UTC. Only Heavy has one on Pro and Business+.
DAILY_LIMITS: Final[dict[Plan, dict[Category, int]]] = {
    "free": {"light": 6000, "medium": 2000, "heavy": 1000},
    "pro": {"heavy": 30_000},
    "business": {"heavy": 60_000},
}

# The sandbox app's client secret by default: a fake, public on purpose.
FAKE_APP_KEY: Final = "sandbox-secret"

API_ENDPOINTS: Final = ("revoke", "get_user", "list_users", "update_status")
OAUTH_ENDPOINTS: Final = ("token", "authorize", "revoke_oauth")
FAULT_ENDPOINTS: Final = frozenset((*API_ENDPOINTS, *OAUTH_ENDPOINTS, "*"))

PAGE_TOKEN_TTL: Final = 15 * 60  # §2.1: "The expiration period for this token is 15 minutes."
AUTH_CODE_TTL: Final = 5 * 60  # §3.2: the code expires in 5 minutes, one use
MAX_PAGE_SIZE: Final = 2000  # §2.1
DEFAULT_PAGE_SIZE: Final = 30  # §2.1
MAX_RECORDED: Final = 100_000  # keeps a long-running demo server's memory bounded

MSG_IN_QUERY: Final = (
    "Invalid access token, this access token is not supported as query parameter string."
)
MSG_QPS: Final = "You have reached the maximum per-second rate limit for this API. Try again later."
MSG_DAILY: Final = (
    "You have reached the maximum daily rate limit for this API. "
    "Refer to the response header for details on when you can make another request."
)
MSG_UNKNOWN_ENDPOINT: Final = "This API endpoint is not recognized."
MSG_BAD_CURSOR: Final = "The next page token is invalid or expired."
MSG_NOT_SSO: Final = "The user is not an SSO user; only SSO tokens can be revoked."
MSG_ADMIN_STATUS: Final = "Zoom Room and Admin users' status cannot be activated or deactivated."

REDACTED: Final = "[redacted]"
# Form fields of the OAuth host that carry secrets; recorded bodies replace their values.
_SECRET_FIELDS: Final = frozenset(
    {"access_token", "refresh_token", "code", "code_verifier", "token", "client_secret"}
)
# Literal paths under /users that the Users API defines (§2.2): they are not user ids.
_USERS_LITERALS: Final = frozenset({"email", "features", "summary", "vanity_name"})


# --- Public data types ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SandboxResponse:
    """What the sandbox answers. ``delay`` (seconds to wait before answering) and ``reset``
    (drop the connection, send nothing) are faults that the front must act out."""

    status: int
    headers: dict[str, str]
    body: bytes = field(repr=False)  # token responses carry secrets; keep them out of reprs
    delay: float = 0.0
    reset: bool = False

    def json(self) -> Any:
        """The body parsed as JSON, or None for an empty body."""
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the sandbox saw, with secrets redacted."""

    host: Host
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names; Authorization values redacted
    body: bytes  # OAuth form secrets redacted
    endpoint: str  # "revoke", "get_user", ..., "delete_user", "get_user_token", "unknown"
    status: int | None  # None: the connection was reset
    at: float  # sandbox clock
    token_id: str | None = None  # serial of the bearer token used, e.g. "at-2"
    fault: bool = False
    delay: float = 0.0
    tracking_id: str | None = None  # the x-zm-trackingid answered (None: connection reset)


@dataclass(frozen=True, slots=True)
class Revocation:
    """One accepted ``DELETE /users/{userId}/token`` (§7.2: "record an audit event")."""

    user_id: str
    email: str
    at: float  # sandbox clock
    sso: bool  # False: a non-SSO user, whose sessions were left alone (§7.2)
    token_id: str | None = None

    @property
    def at_iso(self) -> str:
        return iso_utc(self.at)


@dataclass(slots=True)
class _Fault:
    endpoint: str
    remaining: int
    status: int | None
    code: int | None
    message: str | None
    delay: float
    reset: bool
    headers: dict[str, str]


@dataclass(slots=True)
class _Token:
    serial: str  # a non-secret name for the token, safe to log ("at-1", "rt-1")
    kind: Literal["access", "refresh"]
    grant: str
    scopes: tuple[str, ...]
    expires_at: float
    user_id: str | None  # the consenting user for authorization-code tokens; None for S2S
    pair: str | None = None  # the paired access or refresh token value
    code: str | None = None  # the authorization code it came from
    forced_expired: bool = False


@dataclass(slots=True)
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str | None
    method: str
    expires_at: float
    user_id: str | None
    used: bool = False


@dataclass(frozen=True, slots=True)
class _Filter:
    status: str
    role_id: str | None
    license: str | None

    def matches(self, user: SandboxUser) -> bool:
        return (
            user.status == self.status
            and (self.role_id is None or user.role_id == self.role_id)
            and (self.license is None or self.license in user.licenses)
        )


@dataclass(slots=True)
class _Cursor:
    filter: _Filter
    next_index: int
    page_number: int
    page_size: int
    created_at: float


@dataclass(frozen=True, slots=True)
class _Route:
    endpoint: str
    known: bool = True  # False: answered 404/2300 after the auth checks (§7.1 step 5)
    category: Category = "light"
    scopes: frozenset[str] = frozenset()
    granular: tuple[str, ...] = ()  # named in the 4711 message (§7.1 step 4)
    user_id: str | None = None


@dataclass(slots=True)
class _Reply:
    status: int
    payload: Any = None  # JSON-able; None means an empty body
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class _Call:
    host: Host
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    route: _Route
    token: _Token | None = None

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


# --- Routing (§1, §2.1, §2.3, §7.2-§7.5, §7.8-§7.10) ---------------------------------------------

_LIST_USERS_SCOPES: Final = frozenset(
    {"user:read", "user:write", "user:read:admin", "user:write:admin", "user:read:list_users:admin"}
)
_GET_USER_SCOPES: Final = frozenset(
    {
        "user:read",
        "user:write",
        "user:read:admin",
        "user:write:admin",
        "user_profile",
        "user_info:read",
        "user:read:user",
        "user:read:user:admin",
        "user:read:user:master",
    }
)
_REVOKE_SCOPES: Final = frozenset(
    {
        "user:write:admin",
        "user:write",
        "user:delete:token",
        "user:delete:token:admin",
        "user:delete:token:master",
    }
)
_STATUS_SCOPES: Final = frozenset(
    {"user:write:admin", "user:write", "user:update:status", "user:update:status:admin"}
)


def route_api(method: str, path: str) -> _Route:
    """Map an API request to an endpoint. Routes on the method too: ``GET /users/{id}/token``
    is a different operation (§1), and ``DELETE /users/{id}`` deletes a user, so the sandbox
    names it (to record it) but never performs it."""
    parts = path.split("/")
    if len(parts) < 2 or parts[0] != "" or parts[1] != "users":
        return _Route("unknown", known=False)
    rest = parts[2:]
    if not rest and method == "GET":
        return _Route(
            "list_users",
            category="medium",
            scopes=_LIST_USERS_SCOPES,
            granular=("user:read:list_users:admin",),
        )
    if not rest or not rest[0] or rest[0] in _USERS_LITERALS:
        return _Route("unknown", known=False)
    # Split before unquoting, so an encoded "/" stays inside the user id.
    user_id = unquote(rest[0])
    action = (method, "/".join(rest[1:]))
    if action == ("GET", ""):
        return _Route(
            "get_user",
            scopes=_GET_USER_SCOPES,
            granular=("user:read:user", "user:read:user:admin"),
            user_id=user_id,
        )
    if action == ("DELETE", "token"):
        return _Route(
            "revoke",
            scopes=_REVOKE_SCOPES,
            granular=("user:delete:token", "user:delete:token:admin"),
            user_id=user_id,
        )
    if action == ("PUT", "status"):
        return _Route(
            "update_status",
            scopes=_STATUS_SCOPES,
            granular=("user:update:status", "user:update:status:admin"),
            user_id=user_id,
        )
    if action == ("DELETE", ""):
        return _Route("delete_user", known=False, user_id=user_id)
    if action == ("GET", "token"):
        return _Route("get_user_token", known=False, user_id=user_id)
    return _Route("unknown", known=False, user_id=user_id)


def route_oauth(method: str, path: str) -> _Route:
    endpoint = {
        "/oauth/token": "token",
        "/oauth/authorize": "authorize",
        "/oauth/revoke": "revoke_oauth",
    }.get(path.rstrip("/"), "unknown")
    return _Route(endpoint, known=endpoint != "unknown")


_OAUTH_METHODS: Final = {"token": "POST", "authorize": "GET", "revoke_oauth": "POST"}


# --- Helpers -------------------------------------------------------------------------------------


def _parse_query(query: Mapping[str, list[str]] | str) -> dict[str, list[str]]:
    if isinstance(query, str):
        return parse_qs(query.lstrip("?"), keep_blank_values=True)
    return {key: list(values) for key, values in query.items()}


def _parse_form(body: bytes) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body, first value per name."""
    pairs = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in pairs.items()}


@dataclass(frozen=True, slots=True)
class _Spliced:
    """A JSON object plus one array member made of already-serialized items."""

    head: dict[str, Any]
    key: str
    items: list[bytes]


def _json_bytes(payload: Any) -> bytes:
    if isinstance(payload, _Spliced):
        head = _json_bytes(payload.head)
        member = _json_bytes(payload.key) + b":[" + b",".join(payload.items) + b"]"
        return head[:-1] + (b"," if payload.head else b"") + member + b"}"
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _tracking_id() -> str:
    # §7.1: every API response carries x-zm-trackingid; value format from [S6].
    return f"v=2.0;clid=us01;rid=WEB_{secrets.token_hex(16)}"


def _zoom_error(status: int, code: int, message: str, **extra: Any) -> _Reply:
    # §5: error bodies are {"code": int, "message": str}, plus "errors" for validation.
    return _Reply(status, {"code": code, "message": message, **extra})


def _validation_failed(name: str) -> _Reply:
    # §5 [S9]: {"code":300,"message":"Validation Failed.","errors":[{field, message}]}
    return _zoom_error(
        400, 300, "Validation Failed.", errors=[{"field": name, "message": "Invalid field."}]
    )


def _oauth_error(status: int, error: str, reason: str) -> _Reply:
    # §3.2: the OAuth host's error shape is {"reason": ..., "error": <oauth error>}.
    return _Reply(status, {"reason": reason, "error": error})


def _next_midnight_utc(now: float) -> float:
    return (math.floor(now / DAY) + 1) * DAY


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, without brackets) is this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _pkce_matches(challenge: str, method: str, verifier: str) -> bool:
    if method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    else:
        computed = verifier
    return hmac.compare_digest(computed.encode(), challenge.encode())


def _redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    redacted = {}
    for name, value in headers.items():
        if name == "authorization":
            scheme = value.partition(" ")[0]
            value = f"{scheme} {REDACTED}" if scheme else REDACTED
        redacted[name] = value
    return redacted


def _redact_query(query: Mapping[str, list[str]]) -> dict[str, list[str]]:
    return {
        key: [REDACTED] * len(values) if key in _SECRET_FIELDS else list(values)
        for key, values in query.items()
    }


def _redact_body(host: Host, body: bytes) -> bytes:
    # API bodies are small JSON documents without secrets; OAuth bodies are forms with them.
    if host == "api" or not body:
        return body
    pairs = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    redacted = _redact_query(pairs)
    return urlencode([(k, v) for k, vs in redacted.items() for v in vs]).encode("ascii")


def _default_fault_error(status: int) -> tuple[int, str]:
    """Zoom's (code, message) for a faulted status: §5 for 4xx; 5xx use the status as code."""
    defaults = {
        400: (300, "Validation Failed."),
        401: (124, "Invalid access token."),
        403: (200, "Access to the Zoom REST API has been denied for this account."),
        404: (1001, "User does not exist."),
        409: (409, "Conflict."),
        500: (500, "Internal server error. Try again later."),
        502: (502, "Bad gateway. Try again later."),
        503: (503, "Service is temporarily unavailable. Try again later."),
        504: (504, "Gateway timeout. Try again later."),
    }
    return defaults.get(status, (status, f"{_phrase(status)}."))


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:  # a status without a name, such as 599
        return "Error"


def _oauth_error_name(status: int) -> str:
    if status == 401:
        return "invalid_client"
    if status == 503:
        return "temporarily_unavailable"
    if status >= 500:
        return "server_error"
    return "invalid_request"


class ManualClock:
    """A clock for tests: call it for the time; ``advance()`` or ``sleep()`` moves it.

    Pass it as both ``clock`` and ``sleep`` so sandbox delays move time instead of waiting.
    """

    def __init__(self, start: float = 1_780_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)


# --- Rate limiting (§4, §7.1) --------------------------------------------------------------------


class _RateLimiter:
    """Per (account, category) limits. The sandbox is one account, so one limiter.

    A sliding one-second window: a request is accepted only if fewer than N requests were
    accepted in the second before it, so no one-second interval ever holds more than N.
    Rejected requests consume nothing.
    """

    def __init__(self, qps: Mapping[Category, int], daily: Mapping[Category, int]) -> None:
        self._qps = dict(qps)
        self._daily = dict(daily)
        self._windows: dict[Category, deque[float]] = {c: deque() for c in get_args(Category)}
        self._day_counts: dict[Category, tuple[int, int]] = {}  # category -> (day, count)

    def _window(self, category: Category, now: float) -> deque[float]:
        window = self._windows[category]
        while window and window[0] <= now - 1.0:
            window.popleft()
        return window

    def _used_today(self, category: Category, now: float) -> int:
        day, count = self._day_counts.get(category, (-1, 0))
        return count if day == int(now // DAY) else 0

    def acquire(self, category: Category, now: float) -> _Reply | None:
        """Count one request, or return the 429 to send instead."""
        label = category.capitalize()
        daily = self._daily.get(category)
        used = self._used_today(category, now)
        if daily is not None and used >= daily:
            # §4, §7.1: daily exhaustion; Retry-After is an ISO date-time, not seconds.
            return _Reply(
                429,
                {"code": 429, "message": MSG_DAILY},
                {
                    "X-RateLimit-Category": label,
                    "X-RateLimit-Type": "Daily-limit",
                    "X-RateLimit-Limit": str(daily),
                    "X-RateLimit-Remaining": "0",
                    "Retry-After": iso_utc(_next_midnight_utc(now)),
                },
            )
        window = self._window(category, now)
        if len(window) >= self._qps[category]:
            # §7.1: QPS 429 has no Retry-After; X-RateLimit-Reset says when a slot frees.
            return _Reply(
                429,
                {"code": 429, "message": MSG_QPS},
                {
                    "X-RateLimit-Category": label,
                    "X-RateLimit-Type": "QPS",
                    "X-RateLimit-Limit": str(self._qps[category]),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(math.ceil(window[0] + 1.0)),
                },
            )
        window.append(now)
        self._day_counts[category] = (int(now // DAY), used + 1)
        return None

    def daily_limit(self, category: Category) -> int:
        """The category's daily limit; plans without one report Free's (§4) for forced 429s."""
        return self._daily.get(category, DAILY_LIMITS["free"][category])

    def headers(self, category: Category, now: float) -> dict[str, str]:
        """The headers every API response carries (§7.1), describing the QPS window."""
        remaining = max(0, self._qps[category] - len(self._window(category, now)))
        return {
            "X-RateLimit-Category": category.capitalize(),
            "X-RateLimit-Type": "QPS",
            "X-RateLimit-Limit": str(self._qps[category]),
            "X-RateLimit-Remaining": str(remaining),
        }


# --- The sandbox ---------------------------------------------------------------------------------


class ZoomSandbox:
    """A fake Zoom account: its users, its OAuth app, its rate limits, and injected faults.

    All state sits behind one lock, so the threaded HTTP front can call ``handle()`` from
    many threads. Times come from ``clock`` (seconds since the epoch); inject a
    ``ManualClock`` to test expiry and rate limits without waiting.
    """

    def __init__(
        self,
        *,
        users: list[SandboxUser] | None = None,
        user_count: int = 300,
        seed: int = 7,
        account_id: str = "sandbox-account",
        client_id: str = "sandbox-client",
        client_secret: str = FAKE_APP_KEY,
        plan: Plan = "pro",
        rate_limits: dict[str, int] | None = None,
        daily_limits: dict[str, int] | None = None,
        token_ttl: int = 3600,
        refresh_token_ttl: int = 90 * DAY,
        scopes: tuple[str, ...] = ("user:read:admin", "user:write:admin"),
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] | None = None,
        non_sso_revoke_error: bool = False,
        redirect_uris: tuple[str, ...] = (),
        expired_token_status: int = 401,
        status_update_code: int = 204,
        api_url: str = "https://api.zoom.us",
    ) -> None:
        if plan not in QPS_LIMITS:
            raise ValueError(f"plan must be one of {sorted(QPS_LIMITS)}, got {plan!r}")
        self.account_id = account_id
        self.account_number = 100_000_000 + random.Random(seed).randrange(900_000_000)
        self.client_id = client_id
        self.client_secret = client_secret
        self.plan: Plan = plan
        self.token_ttl = token_ttl
        self.refresh_token_ttl = refresh_token_ttl
        self.scopes = tuple(scopes)
        self.clock = clock
        self.sleep = sleep
        self.non_sso_revoke_error = non_sso_revoke_error
        self.redirect_uris = tuple(redirect_uris)
        self.expired_token_status = expired_token_status  # §7.1 step 3: 401, or 400 per [S1]
        self.status_update_code = status_update_code  # §7.5: 204 (old docs) or 200 (spec)
        # The token response's api_url (§3.1). The fronts set it to where they serve the API.
        self.api_url = api_url

        self._lock = threading.RLock()
        self._rng = random.Random(f"{seed}/sandbox")
        self._limiter = _RateLimiter(
            self._limits(QPS_LIMITS[plan], rate_limits, "rate_limits"),
            self._limits(DAILY_LIMITS[plan], daily_limits, "daily_limits", partial=True),
        )
        self._users: list[SandboxUser] = []
        self._list_json: dict[int, tuple[SandboxUser, bytes]] = {}
        self._by_id: dict[str, int] = {}
        self._by_email: dict[str, int] = {}
        self._by_unique_id: dict[str, int] = {}
        self._version = 0  # bumped on every user change; keys the count cache
        self._count_cache: dict[tuple[_Filter, int], int] = {}
        for user in seed_users(user_count, seed, now=clock()) if users is None else users:
            self._insert(user)

        self._tokens: dict[str, _Token] = {}
        self._codes: dict[str, _Code] = {}
        self._cursors: dict[str, _Cursor] = {}
        self._faults: list[_Fault] = []
        self._serials: Counter[str] = Counter()
        self._requests: list[RecordedRequest] = []
        self._request_counts: Counter[str] = Counter()
        self._revocations: list[Revocation] = []
        self._token_grants: Counter[str] = Counter()

    @staticmethod
    def _limits(
        base: Mapping[Category, int],
        overrides: Mapping[str, int] | None,
        name: str,
        *,
        partial: bool = False,
    ) -> dict[Category, int]:
        limits = dict(base)
        for key, value in (overrides or {}).items():
            if key not in get_args(Category) or value < 1:
                raise ValueError(f"{name}: expected light/medium/heavy >= 1, got {key}={value}")
            limits[cast(Category, key)] = value  # checked against Category just above
        if not partial and set(limits) != set(get_args(Category)):
            raise ValueError(f"{name}: every category needs a limit")
        return limits

    # --- Introspection for tests and demonstrations ----------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request seen, oldest first (a copy), with secrets redacted."""
        with self._lock:
            return list(self._requests)

    @property
    def revocations(self) -> list[Revocation]:
        """Every accepted ``DELETE /users/{userId}/token``, oldest first (a copy)."""
        with self._lock:
            return list(self._revocations)

    @property
    def token_grants(self) -> dict[str, int]:
        """Tokens issued by ``/oauth/token``, per grant type."""
        with self._lock:
            return dict(self._token_grants)

    def clear_history(self) -> None:
        """Forget recorded requests, revocations and grant counts (not users or tokens)."""
        with self._lock:
            self._requests.clear()
            self._request_counts.clear()
            self._revocations.clear()
            self._token_grants.clear()

    @property
    def users(self) -> list[SandboxUser]:
        """Every user in insertion order (the order of ``GET /users``), as a copy."""
        with self._lock:
            return list(self._users)

    def find_user(self, id_or_email: str) -> SandboxUser | None:
        """The user with this id, or this email in any case (§7.1)."""
        with self._lock:
            index = self._index_of(id_or_email)
            return None if index is None else self._users[index]

    def add_user(self, **fields: Any) -> SandboxUser:
        """Add a user. ``email`` is required; ``id`` and ``pmi`` are made up when missing,
        and the user is active, signed in, with an SSO login unless ``fields`` say otherwise."""
        with self._lock:
            if "email" not in fields:
                raise ValueError("add_user needs an email")
            fields.setdefault("id", zoom_id(self._rng))
            fields.setdefault("pmi", self._rng.randrange(2_000_000_000, 9_999_999_999))
            fields.setdefault("user_created_at", int(self.clock()))
            if fields.get("status", "active") == "active":
                # An active user has signed in, so a revoke has a session to end.
                fields.setdefault("last_login_time", int(self.clock()))
                fields.setdefault("signed_in", True)
            user = SandboxUser(**fields)
            self._insert(user)
            return user

    def set_user(self, id_or_email: str, **changes: Any) -> SandboxUser:
        """Change fields of a user (``dataclasses.replace``) and return the new version."""
        with self._lock:
            index = self._index_of(id_or_email)
            if index is None:
                raise KeyError(id_or_email)
            old = self._users[index]
            new = replace(old, **changes)
            self._unindex(old)
            try:
                self._check_unique(new)
            except ValueError:
                self._index(old, index)
                raise
            self._users[index] = new
            self._index(new, index)
            self._serialize(new, old=old)
            self._version += 1
            return new

    def state(self) -> dict[str, Any]:
        """Counts for demonstrations: never token values."""
        with self._lock:
            now = self.clock()
            by_status = Counter(user.status for user in self._users)
            return {
                "account_id": self.account_id,
                "plan": self.plan,
                "users": len(self._users),
                "users_by_status": dict(by_status),
                "revocations": len(self._revocations),
                "requests": dict(self._request_counts),
                "requests_total": sum(self._request_counts.values()),
                "live_tokens": sum(
                    1 for t in self._tokens.values() if t.kind == "access" and self._live(t, now)
                ),
                "live_refresh_tokens": sum(
                    1 for t in self._tokens.values() if t.kind == "refresh" and self._live(t, now)
                ),
                "token_grants": dict(self._token_grants),
                "pending_faults": sum(f.remaining for f in self._faults),
            }

    # --- Controls --------------------------------------------------------------------------------

    def add_fault(
        self,
        *,
        endpoint: str,
        times: int = 1,
        status: int | None = None,
        code: int | None = None,
        message: str | None = None,
        delay: float = 0.0,
        reset: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Make the next ``times`` calls to ``endpoint`` fail (§7.1 "fault-injection switch").

        ``status``: answer that status with a Zoom error body (``code``/``message`` or a
        default for the status; 429 gets the rate-limit body and headers). ``delay``: answer
        late; alone it delays an otherwise normal answer, which does change state.
        ``reset``: drop the connection. A call answered with ``status`` or ``reset`` changes
        nothing. Faults queue in order: two faults on one endpoint hit successive calls.
        """
        if endpoint not in FAULT_ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; one of {sorted(FAULT_ENDPOINTS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        if status is not None and not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        if delay < 0:
            raise ValueError("delay must not be negative")
        if status is None and not reset and delay == 0:
            raise ValueError("a fault needs a status, a delay or reset=True")
        with self._lock:
            self._faults.append(
                _Fault(endpoint, times, status, code, message, delay, reset, dict(headers or {}))
            )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def expire_access_tokens(self) -> int:
        """Make every live access token expired (§7.11 scenario 2). Returns how many."""
        with self._lock:
            now = self.clock()
            live = [t for t in self._tokens.values() if t.kind == "access" and self._live(t, now)]
            for token in live:
                token.forced_expired = True
            return len(live)

    def revoke_all_tokens(self) -> int:
        """Forget every access and refresh token: they become unknown (401/124 "Invalid
        access token.", or invalid_grant). Returns how many."""
        with self._lock:
            count = len(self._tokens)
            self._tokens.clear()
            return count

    def issue_access_token(
        self, *, scopes: tuple[str, ...] | None = None, ttl: int | None = None
    ) -> str:
        """A bearer token without the OAuth dance, for tests. Not counted in token_grants."""
        with self._lock:
            return self._issue_access("direct", scopes, None, ttl=ttl)

    # --- The one entry point ---------------------------------------------------------------------

    def handle(
        self,
        host: Host,
        method: str,
        path: str,
        query: Mapping[str, list[str]] | str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> SandboxResponse:
        """Answer one request. ``path`` is relative to the host's base: "/users/abc" on the
        API host (base ``.../v2``), "/oauth/token" on the OAuth host."""
        if host not in ("api", "oauth"):
            raise ValueError(f"host must be 'api' or 'oauth', got {host!r}")
        method = method.upper()
        route = route_api(method, path) if host == "api" else route_oauth(method, path)
        call = _Call(
            host=host,
            method=method,
            path=path,
            query=_parse_query(query),
            headers={name.lower(): value for name, value in headers.items()},
            body=body or b"",
            route=route,
        )
        with self._lock:
            fault = self._take_fault(route.endpoint)
            if fault is not None and fault.reset:
                response = SandboxResponse(0, {}, b"", delay=fault.delay, reset=True)
            elif fault is not None and fault.status is not None:
                response = self._render(call, self._fault_reply(call, fault), fault.delay)
            else:
                reply = self._api(call) if host == "api" else self._oauth(call)
                response = self._render(call, reply, fault.delay if fault else 0.0)
            self._record(call, response, fault is not None)
            return response

    # --- Responses and records -------------------------------------------------------------------

    def _render(self, call: _Call, reply: _Reply, delay: float) -> SandboxResponse:
        headers = {"x-zm-trackingid": _tracking_id()}
        if call.host == "api":
            # §7.1: rate-limit headers on every API response; a reply's own ones win.
            headers |= self._limiter.headers(call.route.category, self.clock())
        elif reply.payload is not None:
            headers |= {"Cache-Control": "no-store", "Pragma": "no-cache"}  # tokens inside
        body = b""
        if reply.payload is not None:
            body = _json_bytes(reply.payload)
            headers["Content-Type"] = "application/json"
        headers |= reply.headers
        return SandboxResponse(reply.status, headers, body, delay=delay)

    def _record(self, call: _Call, response: SandboxResponse, faulted: bool) -> None:
        self._request_counts[call.route.endpoint] += 1
        self._requests.append(
            RecordedRequest(
                host=call.host,
                method=call.method,
                path=call.path,
                query=_redact_query(call.query),
                headers=_redact_headers(call.headers),
                body=_redact_body(call.host, call.body),
                endpoint=call.route.endpoint,
                status=None if response.reset else response.status,
                at=self.clock(),
                token_id=call.token.serial if call.token else None,
                fault=faulted,
                delay=response.delay,
                tracking_id=response.headers.get("x-zm-trackingid"),
            )
        )
        if len(self._requests) > MAX_RECORDED:
            del self._requests[: MAX_RECORDED // 10]

    def _take_fault(self, endpoint: str) -> _Fault | None:
        for fault in self._faults:
            if fault.endpoint in (endpoint, "*"):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _fault_reply(self, call: _Call, fault: _Fault) -> _Reply:
        status = fault.status or 500
        if call.host == "oauth":
            reason = fault.message or _phrase(status)
            reply = _oauth_error(status, _oauth_error_name(status), reason)
        elif status == 429:
            reply = self._fault_rate_limited(call.route.category, fault)
        else:
            code, message = _default_fault_error(status)
            if status == 404 and call.route.user_id is not None:
                message = f"User does not exist: {call.route.user_id}."
            reply = _zoom_error(status, fault.code or code, fault.message or message)
        reply.headers |= fault.headers
        return reply

    def _fault_rate_limited(self, category: Category, fault: _Fault) -> _Reply:
        """A forced 429 (§7.1): daily style when the fault's headers ask for Daily-limit."""
        now = self.clock()
        label = category.capitalize()
        daily = fault.headers.get("X-RateLimit-Type") == "Daily-limit"
        headers = {
            "X-RateLimit-Category": label,
            "X-RateLimit-Type": "Daily-limit" if daily else "QPS",
            "X-RateLimit-Remaining": "0",
        }
        if daily:
            headers["X-RateLimit-Limit"] = str(self._limiter.daily_limit(category))
            headers["Retry-After"] = iso_utc(_next_midnight_utc(now))
        else:
            headers["X-RateLimit-Reset"] = str(math.ceil(now + 1.0))
        message = fault.message or (MSG_DAILY if daily else MSG_QPS)
        return _Reply(429, {"code": fault.code or 429, "message": message}, headers)

    # --- Users -----------------------------------------------------------------------------------

    def _check_unique(self, user: SandboxUser) -> None:
        if user.id in self._by_id:
            raise ValueError(f"duplicate user id {user.id!r}")
        if user.email.lower() in self._by_email:
            raise ValueError(f"duplicate email {user.email!r}")

    def _insert(self, user: SandboxUser) -> None:
        self._check_unique(user)
        self._users.append(user)
        self._index(user, len(self._users) - 1)
        self._serialize(user)
        self._version += 1

    def _serialize(self, user: SandboxUser, old: SandboxUser | None = None) -> None:
        """Keep the user's plain list item as JSON (by object: users are immutable)."""
        if old is not None:
            self._list_json.pop(id(old), None)
        # The user itself is kept beside its bytes so its id() cannot be reused meanwhile.
        self._list_json[id(user)] = (user, _json_bytes(user.list_item()))

    def _index(self, user: SandboxUser, index: int) -> None:
        self._by_id[user.id] = index
        self._by_email[user.email.lower()] = index
        if user.employee_unique_id:
            self._by_unique_id[user.employee_unique_id] = index

    def _unindex(self, user: SandboxUser) -> None:
        self._by_id.pop(user.id, None)
        self._by_email.pop(user.email.lower(), None)
        if user.employee_unique_id:
            self._by_unique_id.pop(user.employee_unique_id, None)

    def _index_of(self, id_or_email: str) -> int | None:
        # §7.1: match id exactly, or email case-insensitively.
        index = self._by_id.get(id_or_email)
        return self._by_email.get(id_or_email.lower()) if index is None else index

    def _replace_user(self, user: SandboxUser, **changes: Any) -> SandboxUser:
        index = self._by_id[user.id]
        new = replace(user, **changes)
        self._users[index] = new
        self._serialize(new, old=user)
        self._version += 1
        return new

    def _owner(self) -> SandboxUser | None:
        """The user who "consents" at /oauth/authorize: the owner, else any active user."""
        owners = [u for u in self._users if u.role_id == ROLE_OWNER and u.status == "active"]
        active = owners or [u for u in self._users if u.status == "active"]
        return active[0] if active else None

    # --- Tokens ----------------------------------------------------------------------------------

    def _serial(self, prefix: str) -> str:
        self._serials[prefix] += 1
        return f"{prefix}-{self._serials[prefix]}"

    def _live(self, token: _Token, now: float) -> bool:
        return not token.forced_expired and now < token.expires_at

    def _issue_access(
        self,
        grant: str,
        scopes: tuple[str, ...] | None,
        user_id: str | None,
        *,
        ttl: int | None = None,
        code: str | None = None,
    ) -> str:
        # Opaque and obviously fake; Zoom's are JWT-like but clients must treat them as opaque.
        value = f"sbx_at_{secrets.token_urlsafe(32)}"
        self._tokens[value] = _Token(
            serial=self._serial("at"),
            kind="access",
            grant=grant,
            scopes=self.scopes if scopes is None else tuple(scopes),
            expires_at=self.clock() + (self.token_ttl if ttl is None else ttl),
            user_id=user_id,
            code=code,
        )
        return value

    def _issue_pair(self, grant: str, user_id: str | None, code: str | None) -> tuple[str, str]:
        access = self._issue_access(grant, None, user_id, code=code)
        refresh = f"sbx_rt_{secrets.token_urlsafe(32)}"
        self._tokens[refresh] = _Token(
            serial=self._serial("rt"),
            kind="refresh",
            grant=grant,
            scopes=self.scopes,
            expires_at=self.clock() + self.refresh_token_ttl,
            user_id=user_id,
            pair=access,
            code=code,
        )
        self._tokens[access].pair = refresh
        return access, refresh

    def _drop_token(self, value: str) -> None:
        """Forget a token and its pair (§7.10: revoking one revokes the other)."""
        token = self._tokens.pop(value, None)
        if token is not None and token.pair is not None:
            self._tokens.pop(token.pair, None)

    def _token_body(self, access: str, refresh: str | None) -> dict[str, Any]:
        # §3.1, §3.2: the token response; S2S has no refresh_token.
        body: dict[str, Any] = {"access_token": access, "token_type": "bearer"}
        if refresh is not None:
            body["refresh_token"] = refresh
        body |= {
            "expires_in": self.token_ttl,
            "scope": " ".join(self.scopes),
            "api_url": self.api_url,
        }
        return body

    # --- API host --------------------------------------------------------------------------------

    def _api(self, call: _Call) -> _Reply:
        denied = self._authenticate(call)
        if denied is not None:
            return denied
        if not call.route.known:
            # §7.1 step 5: 404 with Zoom's 2300 body. DELETE /users/{id} lands here on purpose.
            return _zoom_error(404, 2300, MSG_UNKNOWN_ENDPOINT)
        limited = self._limiter.acquire(call.route.category, self.clock())
        if limited is not None:
            return limited
        handlers: dict[str, Callable[[_Call], _Reply]] = {
            "list_users": self._list_users,
            "get_user": self._get_user,
            "revoke": self._revoke,
            "update_status": self._update_status,
        }
        return handlers[call.route.endpoint](call)

    def _authenticate(self, call: _Call) -> _Reply | None:
        """§7.1 steps 1-4, in that order."""
        if "access_token" in call.query:
            return _zoom_error(401, 124, MSG_IN_QUERY)
        scheme, _, value = call.headers.get("authorization", "").partition(" ")
        token = self._tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        if token is None or token.kind != "access":
            return _zoom_error(401, 124, "Invalid access token.")
        call.token = token
        if not self._live(token, self.clock()):
            return _zoom_error(self.expired_token_status, 124, "Access token is expired.")
        route = call.route
        if route.known and not self._has_scope(token, route):
            listed = ", ".join(route.granular)
            return _zoom_error(
                400, 4711, f"Invalid access token, does not contain scopes:[{listed}]."
            )
        return None

    def _has_scope(self, token: _Token, route: _Route) -> bool:
        accepted = set(route.scopes)
        if route.user_id != "me":
            accepted.discard("user_info:read")  # §2.3: only with the `me` value
        return not accepted.isdisjoint(token.scopes)

    def _resolve_user(self, call: _Call, *, by_unique_id: bool = False) -> SandboxUser | None:
        user_id = call.route.user_id or ""
        if user_id == "me":
            # §7.1: `me` is the token's user; an S2S token has none (the CONFLICT resolved
            # towards 404/1001, which makes a client that relies on `me` fail loudly).
            token_user = call.token.user_id if call.token else None
            index = self._by_id.get(token_user) if token_user else None
        elif by_unique_id:
            index = self._by_unique_id.get(user_id)  # §7.1: search_by_unique_id=true
        else:
            index = self._index_of(user_id)
        return None if index is None else self._users[index]

    def _user_not_found(self, call: _Call) -> _Reply:
        return _zoom_error(404, 1001, f"User does not exist: {call.route.user_id}.")  # §7.1

    def _get_user(self, call: _Call) -> _Reply:
        """``GET /users/{userId}`` (§7.4)."""
        by_unique_id = call.param("search_by_unique_id")
        encrypted = call.param("encrypted_email")
        for name, value in (("search_by_unique_id", by_unique_id), ("encrypted_email", encrypted)):
            if value is not None and value not in ("true", "false"):
                return _validation_failed(name)
        login_type = call.param("login_type")
        if login_type is not None and not login_type.isdigit():
            return _validation_failed("login_type")
        user = self._resolve_user(call, by_unique_id=by_unique_id == "true")
        if user is None or (login_type is not None and int(login_type) not in user.login_types):
            return self._user_not_found(call)
        return _Reply(
            200, user.get_user_body(account_id=self.account_id, account_number=self.account_number)
        )

    def _revoke(self, call: _Call) -> _Reply:
        """``DELETE /users/{userId}/token`` (§1, §7.2): 204 and an audit record."""
        user = self._resolve_user(call)
        if user is None:
            return self._user_not_found(call)
        if not user.is_sso and self.non_sso_revoke_error:
            return _zoom_error(400, 300, MSG_NOT_SSO)  # ⚙ §7.2; Zoom's real answer UNVERIFIED
        if user.is_sso:
            # §7.2: a non-SSO user gets 204 with no session change; an SSO user is signed out.
            user = self._replace_user(user, signed_in=False)
        self._revocations.append(
            Revocation(
                user_id=user.id,
                email=user.email,
                at=self.clock(),
                sso=user.is_sso,
                token_id=call.token.serial if call.token else None,
            )
        )
        return _Reply(204)

    def _update_status(self, call: _Call) -> _Reply:
        """``PUT /users/{userId}/status`` (§7.5)."""
        try:
            document = json.loads(call.body or b"null")
        except (ValueError, UnicodeDecodeError):
            return _zoom_error(400, 300, "Request Body should be a valid JSON object.")
        action = document.get("action") if isinstance(document, dict) else None
        if action not in ("activate", "deactivate", "clock_in", "clock_out"):
            return _validation_failed("action")
        user = self._resolve_user(call)
        if user is None:
            return self._user_not_found(call)
        if user.role_id in (ROLE_OWNER, ROLE_ADMIN):
            return _zoom_error(400, 200, MSG_ADMIN_STATUS)  # §7.5 [S1]
        if action == "deactivate":
            self._replace_user(user, status="inactive", signed_in=False)
        elif action == "activate":
            self._replace_user(user, status="active")
        return _Reply(self.status_update_code)

    def _list_users(self, call: _Call) -> _Reply:
        """``GET /users`` (§2.1, §7.3) with an opaque, 15-minute ``next_page_token``."""
        now = self.clock()
        include = frozenset(filter(None, (call.param("include_fields") or "").split(",")))
        if not include <= {"custom_attributes", "host_key"}:
            return _validation_failed("include_fields")
        page_size = DEFAULT_PAGE_SIZE
        raw_size = call.param("page_size")
        if raw_size is not None:
            if not raw_size.isdigit() or not 1 <= int(raw_size) <= MAX_PAGE_SIZE:
                return _validation_failed("page_size")  # ⚙ §7.3: 400 rather than clamp
            page_size = int(raw_size)

        token = call.param("next_page_token")
        if token:
            cursor = self._cursors.get(token)
            if cursor is None or now >= cursor.created_at + PAGE_TOKEN_TTL:
                return _zoom_error(400, 300, MSG_BAD_CURSOR)  # §7.3
            flt, start, page_number = cursor.filter, cursor.next_index, cursor.page_number
            if raw_size is None:
                page_size = cursor.page_size
        else:
            status = call.param("status") or "active"  # §2.1: default active
            if status not in ("active", "inactive", "pending"):
                return _validation_failed("status")
            flt = _Filter(status, call.param("role_id"), call.param("license"))
            raw_number = call.param("page_number") or "1"  # deprecated but honoured (§7.3)
            if not raw_number.isdigit() or int(raw_number) < 1:
                return _validation_failed("page_number")
            page_number = int(raw_number)
            start = self._skip_matches(flt, (page_number - 1) * page_size)

        found, next_index = self._scan(flt, start, page_size)
        next_token = ""  # ⚙ §7.3: the last page carries an empty string
        if next_index is not None:
            next_token = self._new_cursor(flt, next_index, page_number + 1, page_size, now)
        total = self._count(flt)
        head = {
            "next_page_token": next_token,
            "page_count": math.ceil(total / page_size),
            "page_number": page_number,
            "page_size": page_size,
            "total_records": total,
        }
        if include:
            return _Reply(
                200, {**head, "users": [u.list_item(include_fields=include) for u in found]}
            )
        # Each user's plain list item was serialized when the user last changed: a page of
        # 2,000 costs a join, not 2,000 serializations (the sandbox shares the benchmark
        # machine's cores with the dashboard it measures; real Zoom does not).
        return _Reply(200, _Spliced(head, "users", [self._list_json[id(u)][1] for u in found]))

    def _scan(self, flt: _Filter, start: int, size: int) -> tuple[list[SandboxUser], int | None]:
        """Up to ``size`` matching users from index ``start``, and where the next match is.

        Cursors are positions in the insertion-ordered user list, so a user changing status
        between pages is neither repeated nor makes another user skipped.
        """
        found: list[SandboxUser] = []
        index = start
        while index < len(self._users) and len(found) < size:
            if flt.matches(self._users[index]):
                found.append(self._users[index])
            index += 1
        while index < len(self._users) and not flt.matches(self._users[index]):
            index += 1
        return found, (index if index < len(self._users) else None)

    def _skip_matches(self, flt: _Filter, count: int) -> int:
        index = 0
        while count > 0 and index < len(self._users):
            if flt.matches(self._users[index]):
                count -= 1
            index += 1
        return index

    def _count(self, flt: _Filter) -> int:
        key = (flt, self._version)
        if key not in self._count_cache:
            if len(self._count_cache) > 64:
                self._count_cache.clear()
            self._count_cache[key] = sum(1 for user in self._users if flt.matches(user))
        return self._count_cache[key]

    def _new_cursor(
        self, flt: _Filter, next_index: int, page_number: int, page_size: int, now: float
    ) -> str:
        for stale in [k for k, c in self._cursors.items() if now >= c.created_at + PAGE_TOKEN_TTL]:
            del self._cursors[stale]
        # Shaped like Zoom's examples: 35 letters and digits.
        alphabet = string.ascii_letters + string.digits
        token = "".join(secrets.choice(alphabet) for _ in range(35))
        self._cursors[token] = _Cursor(flt, next_index, page_number, page_size, now)
        return token

    # --- OAuth host ------------------------------------------------------------------------------

    def _oauth(self, call: _Call) -> _Reply:
        endpoint = call.route.endpoint
        if not call.route.known:
            return _oauth_error(404, "invalid_request", "Not Found")
        if call.method != _OAUTH_METHODS[endpoint]:
            reply = _oauth_error(405, "invalid_request", "Method Not Allowed")
            reply.headers["Allow"] = _OAUTH_METHODS[endpoint]
            return reply
        if endpoint == "authorize":
            return self._authorize(call)
        if not self._client_authenticated(call.headers):
            # ⚙ §7.8: status and text UNVERIFIED (Zoom codes 4702/4704).
            return _oauth_error(401, "invalid_client", "Invalid client_id or client_secret")
        if call.query:
            # §3.1 [F-8], §3.3 [G-3]: parameters in the query string are refused.
            return _oauth_error(
                400,
                "invalid_request",
                "Parameters must be sent in the request body, not the query string.",
            )
        form = _parse_form(call.body)
        return self._token(form) if endpoint == "token" else self._revoke_token(form)

    def _client_authenticated(self, headers: Mapping[str, str]) -> bool:
        """``Authorization: Basic base64(client_id:client_secret)`` (§3.1)."""
        scheme, _, value = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        client_id, sep, secret = decoded.partition(":")
        id_ok = hmac.compare_digest(client_id.encode(), self.client_id.encode())
        secret_ok = hmac.compare_digest(secret.encode(), self.client_secret.encode())
        return bool(sep) and id_ok and secret_ok

    def _token(self, form: dict[str, str]) -> _Reply:
        """``POST /oauth/token`` (§7.8)."""
        grant = form.get("grant_type")
        if not grant:
            return _oauth_error(400, "invalid_request", "Missing grant type")
        grants: dict[str, Callable[[dict[str, str]], _Reply]] = {
            "account_credentials": self._grant_account_credentials,
            "authorization_code": self._grant_authorization_code,
            "refresh_token": self._grant_refresh_token,
        }
        if grant not in grants:
            return _oauth_error(400, "unsupported_grant_type", "Unsupported grant type")
        reply = grants[grant](form)
        if reply.status == 200:
            self._token_grants[grant] += 1
        return reply

    def _grant_account_credentials(self, form: dict[str, str]) -> _Reply:
        # §3.1: earlier tokens stay valid (multiple live tokens); no refresh token.
        if form.get("account_id") != self.account_id:
            return _oauth_error(400, "invalid_request", "Invalid account_id")
        access = self._issue_access("account_credentials", None, None)
        return _Reply(200, self._token_body(access, None))

    def _grant_authorization_code(self, form: dict[str, str]) -> _Reply:
        """§3.2: one use, five minutes, the same redirect_uri, PKCE when a challenge was given."""
        value = form.get("code", "")
        code = self._codes.get(value)
        if code is None:
            return _oauth_error(400, "invalid_grant", "Invalid authorization code")
        if code.used:
            # RFC 6749 §4.1.2: a code used twice revokes what it issued.
            for token_value in [v for v, t in self._tokens.items() if t.code == value]:
                self._drop_token(token_value)
            return _oauth_error(400, "invalid_grant", "Invalid authorization code")
        code.used = True  # any attempt spends the code, so a wrong verifier cannot be retried
        if self.clock() >= code.expires_at:
            return _oauth_error(400, "invalid_grant", "Invalid authorization code")
        if form.get("redirect_uri") != code.redirect_uri:
            return _oauth_error(400, "invalid_grant", "Redirect URI mismatch.")  # §3.2 4709
        verifier = form.get("code_verifier")
        if code.challenge is not None and (
            not verifier or not _pkce_matches(code.challenge, code.method, verifier)
        ):
            return _oauth_error(400, "invalid_grant", "Invalid code verifier")
        # §3.2 (4741): a new authorization invalidates the user's older refresh tokens.
        for token_value in [
            v for v, t in self._tokens.items() if t.kind == "refresh" and t.user_id == code.user_id
        ]:
            self._tokens.pop(token_value)
        access, refresh = self._issue_pair("authorization_code", code.user_id, value)
        return _Reply(200, self._token_body(access, refresh))

    def _grant_refresh_token(self, form: dict[str, str]) -> _Reply:
        """§3.2: rotation. The presented refresh token dies at once; reuse is invalid_grant."""
        value = form.get("refresh_token", "")
        token = self._tokens.get(value)
        if token is None or token.kind != "refresh" or not self._live(token, self.clock()):
            return _oauth_error(400, "invalid_grant", "Invalid Token!")
        del self._tokens[value]  # the old access token stays valid until it expires
        access, refresh = self._issue_pair("refresh_token", token.user_id, token.code)
        return _Reply(200, self._token_body(access, refresh))

    def _revoke_token(self, form: dict[str, str]) -> _Reply:
        """``POST /oauth/revoke`` (§3.3, §7.10). Unknown tokens also get success (RFC 7009)."""
        value = form.get("token")
        if not value:
            return _oauth_error(400, "invalid_request", "Token cannot be empty.")  # §3.2 4700
        self._drop_token(value)
        return _Reply(200, {"status": "success"})

    def _authorize(self, call: _Call) -> _Reply:
        """``GET /oauth/authorize`` (§7.9): auto-consent as the account owner, then 302."""
        if call.param("client_id") != self.client_id:
            return _oauth_error(400, "invalid_client", "Invalid client_id")
        redirect_uri = call.param("redirect_uri") or ""
        if not self._redirect_allowed(redirect_uri):
            return _oauth_error(400, "invalid_request", "Invalid redirect_uri")
        if call.param("response_type") != "code":
            return _oauth_error(400, "unsupported_response_type", "Unsupported response type")
        challenge = call.param("code_challenge")
        method = call.param("code_challenge_method") or "plain"  # RFC 7636 §4.3 default
        if challenge is not None and method not in ("S256", "plain"):
            return _oauth_error(400, "invalid_request", "Unsupported code_challenge_method")
        owner = self._owner()
        value = secrets.token_urlsafe(24)
        self._codes = {k: c for k, c in self._codes.items() if self.clock() < c.expires_at}
        self._codes[value] = _Code(
            client_id=self.client_id,
            redirect_uri=redirect_uri,
            challenge=challenge,
            method=method,
            expires_at=self.clock() + AUTH_CODE_TTL,
            user_id=owner.id if owner else None,
        )
        params = {"code": value}
        if call.param("state") is not None:
            params["state"] = call.param("state") or ""
        separator = "&" if "?" in redirect_uri else "?"
        return _Reply(302, None, {"Location": f"{redirect_uri}{separator}{urlencode(params)}"})

    def _redirect_allowed(self, uri: str) -> bool:
        if self.redirect_uris:
            return uri in self.redirect_uris
        try:
            parts = urlsplit(uri)
            host = parts.hostname or ""
        except ValueError:
            return False
        if parts.fragment or not host:
            return False
        return parts.scheme == "https" or (parts.scheme == "http" and is_loopback(host))
