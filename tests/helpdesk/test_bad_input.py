"""Hostile data from Zoom and hostile input from the browser.

Zoom's fields (names, department) are data an outsider can set, so they must render as
inert text. The search box and the force-logout form are fuzzed with hypothesis: never a
5xx, never a request to Zoom outside Zoom's id or email shape, overlong and control
characters refused with a clear message, and a tampered ``target`` refused before Zoom.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterator
from typing import Any
from unittest import mock
from urllib.parse import unquote

import pytest
import responses
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core import signing
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import assert_requests_follow_the_spec, configured_sandbox, signed_in
from tests.flows import Response, force_logout_fields, hidden_value, signed_target, tags_of, text
from tests.helpdesk.helpers import confirm_form_fields
from zoomadmin.audit.models import Action, AuditEvent
from zoomadmin.zoom.ids import is_email
from zoomadmin.zoom.sandbox import RecordedRequest, SandboxUser, ZoomSandbox
from zoomadmin.zoom.sandbox.mock import install

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/"}
ZOOM_ID = re.compile(r"[A-Za-z0-9_-]{22}")
# What a correctly percent-encoded path segment may hold: unreserved characters, the two
# the client keeps ("@" and "+"), and %XX escapes. No "/", "?", "#" or raw bytes.
ENCODED_SEGMENT = re.compile(r"(?:[A-Za-z0-9._~@+-]|%[0-9A-F]{2})+")
DOMAIN_LABEL = re.compile(r"[^\W_](?:[\w-]*[^\W_])?")
DOMAIN_LITERAL = re.compile(r"\[[0-9A-Fa-f:.]+\]|\[IPv6:[0-9A-Fa-f:.]+\]")
MAX_QUERY = 200
MAX_REASON = 500
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def sandbox(zoom_http: responses.RequestsMock) -> Iterator[ZoomSandbox]:
    """conftest's sandbox with rate limits far above what fuzzing sends in a second:
    here a 429 would be Zoom's doing, not the input's, and hide a real 5xx.

    Afterwards, as there, every API request sent is checked against Zoom's OpenAPI spec.
    """
    fake = configured_sandbox(
        user_count=60,
        rate_limits={"light": 1_000_000, "medium": 1_000_000, "heavy": 1_000_000},
    )
    install(
        fake,
        zoom_http,
        api_base_url=django_settings.ZOOM_API_BASE_URL,
        oauth_base_url=django_settings.ZOOM_OAUTH_BASE_URL,
    )
    yield fake
    assert_requests_follow_the_spec(fake)


@pytest.fixture
def agent(helpdesk: User) -> Client:
    return signed_in(helpdesk)


# --- Helpers ---------------------------------------------------------------------------------


def api_calls(sandbox: ZoomSandbox, since: int = 0) -> list[RecordedRequest]:
    return [r for r in sandbox.requests[since:] if r.host == "api"]


def deletes(sandbox: ZoomSandbox, since: int = 0) -> list[str]:
    return [r.path for r in api_calls(sandbox, since) if r.method == "DELETE"]


def is_zoom_reference(raw_segment: str) -> bool:
    """Our own, independent idea of a Zoom id or an email address in a URL segment."""
    if not ENCODED_SEGMENT.fullmatch(raw_segment):
        return False
    value = unquote(raw_segment)
    if ZOOM_ID.fullmatch(value):
        return True
    if len(value) > 128:
        return False
    if any(ch.isspace() or unicodedata.category(ch) in {"Cc", "Cf"} for ch in value):
        return False
    # The local part may hold any of RFC 5322's atext ("/", "%", "'" ...): percent-encoded
    # by ENCODED_SEGMENT above, it stays inside its one path segment. The domain is
    # host-name labels, or an address literal in brackets.
    local, at, domain = value.rpartition("@")
    if not (at and local):
        return False
    if DOMAIN_LITERAL.fullmatch(domain):
        return True
    labels = domain.split(".")
    return len(labels) >= 2 and all(DOMAIN_LABEL.fullmatch(label) for label in labels)


def assert_every_zoom_call_is_well_formed(calls: list[RecordedRequest]) -> None:
    for call in calls:
        parts = call.path.split("/")
        if call.method == "GET":
            assert len(parts) == 3, call.path
            assert parts[:2] == ["", "users"], call.path
        elif call.method == "DELETE":
            # The revoke only: never DELETE /users/{userId}, which deletes the account.
            assert len(parts) == 4, call.path
            assert parts[:2] == ["", "users"], call.path
            assert parts[3] == "token", call.path
        else:
            raise AssertionError(f"unexpected {call.method} {call.path}")
        assert is_zoom_reference(parts[2]), call.path
        assert call.query == {}, call.query


def has_control_characters(value: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in value)


# --- Hostile Zoom data renders as inert text ------------------------------------------------

IMG = "<img src=x onerror=alert(1)>"
HX_TAG = '<b hx-get="/x" hx-trigger="load" hx-target="body">boss</b>'
ATTRIBUTE_BREAKOUT = '" hx-get="/x" hx-trigger="load" onmouseover="alert(1)'
SCRIPT = "</td></tr><script>alert(1)</script>"
PAYLOADS = {"img": IMG, "hx-tag": HX_TAG, "breakout": ATTRIBUTE_BREAKOUT, "script": SCRIPT}
OUR_HX_GETS = {"/", "/force-logout/confirm/"}
# The one trigger the page itself sets: the search box's live search.
OUR_HX_TRIGGERS = {("input", "id_q", "input changed delay:30ms")}


def assert_inert(response: Response, payload: str, *, shown: bool) -> None:
    """No trace of ``payload`` as markup; shown as text where the field is displayed."""
    page = response.content.decode()
    assert payload not in page
    if shown:
        assert payload in text(response), "the field should still be shown, as text"
    for tag, attrs in tags_of(page):
        assert tag not in {"img", "b", "iframe", "object", "embed"}, (tag, attrs)
        if tag == "script":
            assert attrs.get("src") and attrs.get("nonce"), attrs
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        if "hx-trigger" in attrs:
            assert (tag, attrs.get("id"), attrs["hx-trigger"]) in OUR_HX_TRIGGERS, (tag, attrs)
        if "hx-get" in attrs:
            assert attrs["hx-get"] in OUR_HX_GETS, (tag, attrs)
        if "hx-target" in attrs:
            assert attrs["hx-target"] != "body", (tag, attrs)


def hostile_user(sandbox: ZoomSandbox, field: str, payload: str) -> SandboxUser:
    names: dict[str, Any] = {"first_name": "Eve", "last_name": "Mallory"}
    names[field] = payload
    return sandbox.add_user(email=f"eve.{field}.{uuid.uuid4().hex[:8]}@globex.example.com", **names)


NAME_FIELDS = ["first_name", "last_name", "display_name"]


@pytest.mark.parametrize("payload_name", sorted(PAYLOADS))
@pytest.mark.parametrize("field", NAME_FIELDS)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_hostile_zoom_names_render_as_inert_text_on_the_search_page(
    agent: Client, sandbox: ZoomSandbox, field: str, payload_name: str, htmx: bool
) -> None:
    payload = PAYLOADS[payload_name]
    user = hostile_user(sandbox, field, payload)

    response = agent.get("/", {"q": user.email}, headers=HTMX if htmx else {})

    assert response.status_code == 200
    assert user.email in response.content.decode()
    assert_inert(response, payload, shown=True)


@pytest.mark.parametrize("payload_name", sorted(PAYLOADS))
def test_a_hostile_department_never_reaches_the_page_as_markup(
    agent: Client, sandbox: ZoomSandbox, payload_name: str
) -> None:
    payload = PAYLOADS[payload_name]
    user = sandbox.add_user(
        email="eve.dept@globex.example.com", first_name="Eve", last_name="Dept", dept=payload
    )

    response = agent.get("/", {"q": user.email})

    assert "eve.dept@globex.example.com" in response.content.decode()
    assert_inert(response, payload, shown=False)


@pytest.mark.parametrize("payload_name", sorted(PAYLOADS))
@pytest.mark.parametrize("field", NAME_FIELDS)
def test_hostile_zoom_names_render_as_inert_text_in_the_confirm_form(
    agent: Client, sandbox: ZoomSandbox, field: str, payload_name: str
) -> None:
    payload = PAYLOADS[payload_name]
    user = hostile_user(sandbox, field, payload)
    found = agent.get("/", {"q": user.email}, headers=HTMX).content.decode()
    target = hidden_value(found, "target")

    for headers in ({}, HTMX):
        response = agent.get("/force-logout/confirm/", {"target": target}, headers=headers)
        assert response.status_code == 200
        assert "Confirm: force log out of Zoom" in response.content.decode()
        assert_inert(response, payload, shown=True)


@pytest.mark.parametrize("payload_name", sorted(PAYLOADS))
def test_hostile_zoom_names_stay_inert_in_the_outcome_and_the_audit_log(
    agent: Client, manager: User, sandbox: ZoomSandbox, payload_name: str
) -> None:
    payload = PAYLOADS[payload_name]
    user = hostile_user(sandbox, "display_name", payload)
    found = agent.get("/", {"q": user.email}, headers=HTMX).content.decode()
    form = agent.get(
        "/force-logout/confirm/", {"target": hidden_value(found, "target")}, headers=HTMX
    ).content.decode()

    # The reason is the agent's own field, pasted from a ticket.
    outcome = agent.post(
        "/force-logout/", {**confirm_form_fields(form), "reason": payload}, headers=HTMX
    )

    assert outcome.status_code == 200
    assert deletes(sandbox) == [f"/users/{user.id}/token"]
    assert_inert(outcome, payload, shown=True)
    audit_page = signed_in(manager).get("/audit/")
    assert user.email in audit_page.content.decode()
    assert_inert(audit_page, payload, shown=True)


# --- Fuzzing the search box ------------------------------------------------------------------

TEXT = st.text(st.characters(codec="utf-8"), max_size=260)
NEAR_MISSES = st.sampled_from(
    [
        "%",
        "_",
        "%_",
        "%%@example.com",
        "100%@example.com",
        "a_b@example.com",
        "'",
        '"',
        "o'brien@example.com",
        '"quoted"@example.com',
        "'; DROP TABLE audit_auditevent; --",
        "me",
        "users",
        "../../users",
        "a/../token@example.com",
        "a/token@example.com",
        "x@example.com/token",
        "x@example.com?page_size=300",
        "x@example.com#frag",
        "x@exa mple.com",
        "x@example.com\r\nX-Injected: 1",
        "\r\nx@example.com\r\n",
        "x\u2028@example.com",
        "x\u202e@example.com",
        "x\x00@example.com",
        "\x1b[31mred@example.com",
        "søren.østergaard@globex.example.com",
        "user@exämple.com",
        "用户@例子.广告",
        "zJKyaiAyTNC-MWjiWC18KQ",
        "zJKyaiAyTNC-MWjiWC18K",
        "zJKyaiAyTNC-MWjiWC18KQQ",
        "zJKyaiAyTNC/MWjiWC18KQ",
        "zJKyaiAyTNC+MWjiWC18KQ",
        "zJKyaiAyTNC%MWjiWC18KQ",
        "a" * 120 + "@example.com",
        "a" * 190 + "@example.com",
        "a" * 250 + "@example.com",
        " " * 300 + "x@example.com",
    ]
)
DECORATED_EMAILS = st.builds(
    lambda prefix, email, suffix: prefix + email + suffix,
    st.sampled_from(["", " ", "\t", "%", "'", "\n", "\x00", "/", "../"]),
    st.emails(),
    st.sampled_from(["", " ", "%", "_", "'", "\r\n", "/token", "?x=1", "#", "\x7f"]),
)
QUERIES = st.one_of(
    TEXT,
    NEAR_MISSES,
    st.emails(),
    DECORATED_EMAILS,
    st.from_regex(r"[A-Za-z0-9_\-%/+.]{20,24}", fullmatch=True),
)


@FUZZ
@given(query=QUERIES)
def test_fuzzed_search_box_never_errors_and_sends_zoom_only_ids_or_emails(
    agent: Client, sandbox: ZoomSandbox, query: str
) -> None:
    before = len(sandbox.requests)
    rows_before = AuditEvent.objects.count()

    response = agent.get("/", {"q": query}, headers=HTMX)

    assert response.status_code < 500, query
    assert response.status_code in {200, 400}, (query, response.status_code)
    calls = api_calls(sandbox, before)
    assert_every_zoom_call_is_well_formed(calls)
    assert len(calls) <= 1
    cleaned = query.strip()
    page = text(response)
    if response.status_code == 400:
        assert calls == [], query
        assert (
            "Type at most" in page
            or "cannot contain control characters" in page
            or "Null characters" in page
        ), page
    if len(cleaned) > MAX_QUERY:
        assert response.status_code == 400
        assert f"Type at most {MAX_QUERY} characters" in page
    if not is_email(cleaned) and not ZOOM_ID.fullmatch(cleaned):
        assert calls == [], query  # a name or a fragment searches the directory only
    if has_control_characters(cleaned):
        assert response.status_code == 400, repr(query)
        assert calls == []
    # Nothing typed can split a log line or an audit row.
    for row in AuditEvent.objects.order_by("id")[rows_before:]:
        for value in (row.detail, row.target_email, row.target_zoom_id):
            assert "\r" not in value
            assert "\n" not in value


@pytest.mark.parametrize(
    "query",
    [
        "a" * 201,
        "a" * 189 + "@example.com",  # 201 characters in all
        "x" * 5000 + "@example.com",
    ],
)
def test_an_overlong_search_is_refused_with_a_clear_message(
    agent: Client, sandbox: ZoomSandbox, query: str
) -> None:
    response = agent.get("/", {"q": query}, headers=HTMX)

    assert response.status_code == 400
    assert f"Type at most {MAX_QUERY} characters" in text(response)
    assert api_calls(sandbox) == []


@pytest.mark.parametrize(
    "query",
    [
        "x@example.com\r\nX-Injected: 1",
        "x\r\n@example.com",
        "x\n@example.com",
        "x\t@example.com",
        "x\x00@example.com",
        "x\x1b@example.com",
        "x\x7f@example.com",
        "zJKyaiAyTNC\nMWjiWC18KQ",
    ],
)
def test_control_characters_and_line_breaks_in_a_search_are_refused(
    agent: Client, sandbox: ZoomSandbox, query: str
) -> None:
    response = agent.get("/", {"q": query}, headers=HTMX)

    assert response.status_code == 400
    page = text(response)
    assert (
        "A search cannot contain control characters, line breaks or invisible formatting" in page
        or "Null characters are not allowed" in page
    )
    assert api_calls(sandbox) == []
    assert not AuditEvent.objects.filter(action=Action.SEARCH).exists()


@pytest.mark.parametrize("query", ["me", "users", "summary", "email", "../token", "a" * 21])
def test_what_is_neither_an_id_nor_an_email_is_never_sent_to_zoom(
    agent: Client, sandbox: ZoomSandbox, query: str
) -> None:
    response = agent.get("/", {"q": query}, headers=HTMX)

    # It searches the local directory (empty here) and says so; Zoom never sees it.
    assert response.status_code == 200
    assert "No one in the directory matches" in text(response)
    assert api_calls(sandbox) == []


@pytest.mark.parametrize(
    ("query", "segment"),
    [
        ("100%@example.com", "100%25@example.com"),
        ("a_b@example.com", "a_b@example.com"),
        ("o'brien@example.com", "o%27brien@example.com"),
        ("a/token@example.com", "a%2Ftoken@example.com"),
        ("first+tag@example.com", "first+tag@example.com"),
        ("søren@exämple.com", "s%C3%B8ren@ex%C3%A4mple.com"),
    ],
)
def test_percent_underscore_quotes_slashes_and_unicode_are_sent_encoded_in_one_segment(
    agent: Client, sandbox: ZoomSandbox, query: str, segment: str
) -> None:
    response = agent.get("/", {"q": query}, headers=HTMX)

    assert response.status_code in {200, 400}
    calls = api_calls(sandbox)
    if response.status_code == 400 or not is_email(query):
        assert calls == []  # refused, or only searched in the directory
        return
    assert [(c.method, c.path) for c in calls] == [("GET", f"/users/{segment}")]
    assert_every_zoom_call_is_well_formed(calls)


def test_a_unicode_name_from_zoom_is_shown_as_is(agent: Client, sandbox: ZoomSandbox) -> None:
    user = sandbox.add_user(
        email="ruairi@globex.example.com", first_name="Ruairí", last_name="Ó Briain-Østergård"
    )
    assert "Ruairí Ó Briain-Østergård" in text(agent.get("/", {"q": user.email}))


# --- Fuzzing the force-logout form ------------------------------------------------------------


def tamper(signed: str, position: int, replacement: str) -> str:
    index = position % len(signed)
    if signed[index] == replacement:
        replacement = "A" if replacement != "A" else "B"
    return signed[:index] + replacement + signed[index + 1 :]


@FUZZ
@given(
    target_kind=st.sampled_from(["valid", "tampered", "garbage", "missing", "other_salt"]),
    position=st.integers(min_value=0, max_value=10_000),
    replacement=st.sampled_from(list("A0_-.:")),
    garbage=TEXT,
    submission=st.one_of(st.uuids().map(str), TEXT, st.just("")),
    reason=st.one_of(
        st.just("INC-9 lost phone"),
        TEXT,
        st.text(st.characters(codec="utf-8"), min_size=490, max_size=520),
        st.sampled_from(["", "   ", "line\r\nbreak", "tab\there", "nul\x00", "%_'\"", "ok ✓"]),
    ),
    htmx=st.booleans(),
)
def test_fuzzed_force_logout_never_errors_and_revokes_only_the_signed_target(
    agent: Client,
    sandbox: ZoomSandbox,
    sso_user: SandboxUser,
    target_kind: str,
    position: int,
    replacement: str,
    garbage: str,
    submission: str,
    reason: str,
    htmx: bool,
) -> None:
    signed = signed_target(sso_user)
    target = {
        "valid": signed,
        "tampered": tamper(signed, position, replacement),
        "garbage": garbage,
        "missing": None,
        "other_salt": signing.dumps({"zoom_id": "x" * 22}, compress=True),
    }[target_kind]
    form = {"submission_id": submission, "reason": reason}
    if target is not None:
        form["target"] = target
    before = len(sandbox.requests)

    response = agent.post("/force-logout/", form, headers=HTMX if htmx else {})

    assert response.status_code < 500, (form, response.status_code)
    calls = api_calls(sandbox, before)
    assert_every_zoom_call_is_well_formed(calls)
    sent = [c.path for c in calls if c.method == "DELETE"]
    assert sent in ([], [f"/users/{sso_user.id}/token"]), sent
    page = text(response)

    target_ok = target == signed
    try:
        uuid.UUID(submission)
        submission_ok = True
    except ValueError:
        submission_ok = False
    cleaned = reason.strip()
    reason_ok = (
        0 < len(cleaned) <= MAX_REASON
        and not has_control_characters(cleaned)
        and "\x00" not in reason
    )
    if not target_ok or not submission_ok:
        assert response.status_code == 400
        assert "Nothing was sent to Zoom." in page
        assert sent == []
    elif not reason_ok:
        assert response.status_code == 400
        assert sent == []
        assert (
            "Give a reason" in page
            or f"Keep the reason under {MAX_REASON} characters." in page
            or "cannot contain control characters" in page
            or "Null characters are not allowed" in page
        ), page
    else:
        assert response.status_code == 200, page
        assert len(sent) <= 1  # none when this submission id was already used


@pytest.mark.parametrize(
    "reason",
    ["INC-1\r\nX-Injected: 1", "line\nbreak", "tab\there", "bell\x07", "esc\x1b[2J"],
)
def test_control_characters_and_line_breaks_in_the_reason_are_refused(
    agent: Client, sandbox: ZoomSandbox, sso_user: SandboxUser, reason: str
) -> None:
    form = force_logout_fields(sso_user, reason=reason)
    response = agent.post("/force-logout/", form, headers=HTMX)

    assert response.status_code == 400
    assert "The reason cannot contain control characters or line breaks." in text(response)
    assert deletes(sandbox) == []
    assert not AuditEvent.objects.filter(action=Action.FORCE_LOGOUT_REQUESTED).exists()


def test_an_overlong_reason_is_refused_with_a_clear_message(
    agent: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    form = force_logout_fields(sso_user, reason="r" * (MAX_REASON + 1))
    response = agent.post("/force-logout/", form, headers=HTMX)

    assert response.status_code == 400
    assert f"Keep the reason under {MAX_REASON} characters." in text(response)
    assert deletes(sandbox) == []


# --- Tampered or garbage targets ----------------------------------------------------------------


def sign_raw(data: dict[str, Any]) -> str:
    """A correctly signed target with arbitrary content: only our SECRET_KEY could make it."""
    return signing.dumps(data, salt="zoomadmin.helpdesk.target", compress=True)


def bad_targets(user: SandboxUser) -> dict[str, str]:
    good = signed_target(user)
    fields = {
        "zoom_id": user.id,
        "email": user.email,
        "name": user.name,
        "status": user.status,
        "login_types": list(user.login_types),
    }
    return {
        "garbage": "garbage",
        "empty": "",
        "one character changed": tamper(good, len(good) // 2, "A"),
        "signature cut off": good.rsplit(":", 1)[0],
        "signature of another": good.rsplit(":", 1)[0] + ":" + "A" * 43,
        "another salt": signing.dumps(fields, compress=True),
        "overlong": good + "A" * 5000,
        "unicode": good + "é",
        "html": '"><img src=x onerror=alert(1)>',
        "path in the signed id": sign_raw({**fields, "zoom_id": "../../users/x"}),
        "delete path in the signed id": sign_raw({**fields, "zoom_id": f"{user.id}/../x"}),
        "no id and a bad email": sign_raw({**fields, "zoom_id": "", "email": "not an email"}),
        "missing keys": sign_raw({"zoom_id": user.id}),
        "wrong types": sign_raw({**fields, "login_types": ["sso"]}),
        "null login types": sign_raw({**fields, "login_types": None}),
        "a list, not a dict": sign_raw([user.id]),  # type: ignore[arg-type]
    }


BAD_TARGET_NAMES = sorted(bad_targets(SandboxUser(id="a" * 22, email="a@b.example")))


@pytest.mark.parametrize("kind", BAD_TARGET_NAMES)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_tampered_target_in_the_confirm_request_is_a_clear_400(
    agent: Client, sandbox: ZoomSandbox, sso_user: SandboxUser, kind: str, htmx: bool
) -> None:
    target = bad_targets(sso_user)[kind]

    response = agent.get("/force-logout/confirm/", {"target": target}, headers=HTMX if htmx else {})

    assert response.status_code == 400
    page = text(response)
    assert "Nothing was sent to Zoom." in page
    assert "Search for the user again." in page
    assert "Confirm: force log out of Zoom" not in page
    assert sandbox.requests == []


@pytest.mark.parametrize("kind", BAD_TARGET_NAMES)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_tampered_target_in_the_force_logout_request_is_a_clear_400_and_zoom_is_not_called(
    agent: Client, sandbox: ZoomSandbox, sso_user: SandboxUser, kind: str, htmx: bool
) -> None:
    form = {
        "target": bad_targets(sso_user)[kind],
        "submission_id": str(uuid.uuid4()),
        "reason": "INC-5 tampered",
    }

    response = agent.post("/force-logout/", form, headers=HTMX if htmx else {})

    assert response.status_code == 400
    page = text(response)
    assert "Nothing was sent to Zoom." in page
    assert sandbox.requests == []
    assert not AuditEvent.objects.filter(action=Action.FORCE_LOGOUT_REQUESTED).exists()


def test_an_expired_target_is_refused(
    agent: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    two_hours_ago = signing.time.time() - 2 * 60 * 60  # type: ignore[attr-defined]
    with mock.patch("django.core.signing.time.time", return_value=two_hours_ago):
        old = signed_target(sso_user)

    response = agent.post(
        "/force-logout/",
        {"target": old, "submission_id": str(uuid.uuid4()), "reason": "INC-6"},
    )

    assert response.status_code == 400
    assert "Nothing was sent to Zoom." in text(response)
    assert sandbox.requests == []


@pytest.mark.parametrize("submission", ["", "not-a-uuid", "1' OR '1'='1", "0" * 5000])
def test_a_garbage_submission_id_is_a_400_and_zoom_is_not_called(
    agent: Client, sandbox: ZoomSandbox, sso_user: SandboxUser, submission: str
) -> None:
    form = {
        "target": signed_target(sso_user),
        "submission_id": submission,
        "reason": "INC-7",
    }
    response = agent.post("/force-logout/", form)

    assert response.status_code == 400
    assert "Nothing was sent to Zoom." in text(response)
    assert sandbox.requests == []


def test_a_submission_id_reused_for_another_user_does_not_claim_that_user_was_signed_out(
    agent: Client, sandbox: ZoomSandbox, sso_users: list[SandboxUser]
) -> None:
    """A confirm form's submission id belongs to one target. Sent again with another
    (signed, genuine) target, it must not report the first user's success as the second's."""
    first, second = sso_users[:2]
    submission = str(uuid.uuid4())
    agent.post(
        "/force-logout/",
        {"target": signed_target(first), "submission_id": submission, "reason": "INC-8"},
    )
    assert deletes(sandbox) == [f"/users/{first.id}/token"]

    response = agent.post(
        "/force-logout/",
        {"target": signed_target(second), "submission_id": submission, "reason": "INC-8"},
        headers=HTMX,
    )

    page = text(response)
    second_revoked = f"/users/{second.id}/token" in deletes(sandbox)
    assert second_revoked or f"Forced out of Zoom: {second.name}" not in page, page
