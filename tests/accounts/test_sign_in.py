"""Signing in and out through the real form, the session and CSRF cookies, and CSRF itself.

These use ``Client()`` and real POSTs to /accounts/login/ (not ``force_login``), except
where a test needs a signed-in staff member only as a starting point.
"""

from __future__ import annotations

import html
import re
from http.cookies import Morsel

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.test import Client

from tests.conftest import PASSWORD, signed_in
from tests.flows import force_logout_fields
from zoomadmin.audit.models import Action, AuditEvent, Outcome
from zoomadmin.zoom.sandbox import SandboxUser, ZoomSandbox

LOGIN = "/accounts/login/"
LOGOUT = "/accounts/logout/"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) zoomadmin-tests/1.0"


def sign_in(
    client: Client,
    username: str,
    password: str = PASSWORD,
    *,
    token: str | None = None,
    **extra: object,
):
    """POST the sign-in form; with ``token``, as the page's hidden CSRF field holds it."""
    data = {"username": username, "password": password}
    if token is not None:
        data["csrfmiddlewaretoken"] = token
    return client.post(LOGIN, data, **extra)


def sign_in_page_token(client: Client) -> str:
    """Open the sign-in page, as a browser would first: the CSRF token of its form."""
    page = client.get(LOGIN).content.decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match, "no CSRF token in the page"
    return html.unescape(match[1])


def htmx_csrf_token_in(page: str) -> str:
    match = re.search(r"hx-headers='\{\"x-csrftoken\": \"([^\"]+)\"\}'", page)
    assert match, "no hx-headers CSRF token on <body>"
    return match[1]


def audit_values(row: AuditEvent) -> list[str]:
    return [str(getattr(row, field.attname)) for field in AuditEvent._meta.concrete_fields]


def assert_csrf_refusal_audited(path: str, actor: User | None = None) -> AuditEvent:
    rows = list(AuditEvent.objects.filter(action=Action.DENIED))
    assert len(rows) == 1, rows
    row = rows[0]
    assert row.outcome == Outcome.DENIED
    assert f"POST {path}" in row.detail
    assert "CSRF" in row.detail
    assert row.actor == actor
    return row


def zoom_deletes(sandbox: ZoomSandbox) -> list[str]:
    return [r.path for r in sandbox.requests if r.method == "DELETE"]


# --- Signing in ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_sign_in_form_has_username_and_password_fields() -> None:
    page = Client().get(LOGIN).content.decode()
    assert 'name="username"' in page
    assert 'name="password"' in page
    assert 'type="password"' in page
    assert 'name="csrfmiddlewaretoken"' in page


@pytest.mark.django_db
def test_signing_in_with_the_form_leads_to_the_search_page(helpdesk: User) -> None:
    client = Client()

    response = sign_in(client, "hana.helpdesk")

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_signing_in_rotates_the_session_key(helpdesk: User) -> None:
    client = Client()
    session = client.session  # an anonymous session, as a visitor would already have
    session["seen"] = True
    session.save()
    before = session.session_key
    assert client.cookies["sessionid"].value == before

    sign_in(client, "hana.helpdesk")

    after = client.cookies["sessionid"].value
    assert after and after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert Session.objects.get(session_key=after).get_decoded()["_auth_user_id"] == str(helpdesk.pk)


@pytest.mark.django_db
def test_signing_in_rotates_the_csrf_token(helpdesk: User) -> None:
    client = Client()
    client.get(LOGIN)
    before = client.cookies["csrftoken"].value

    sign_in(client, "hana.helpdesk")

    assert client.cookies["csrftoken"].value != before


@pytest.mark.django_db
def test_a_successful_sign_in_is_audited_with_ip_user_agent_and_request_id(
    helpdesk: User,
) -> None:
    response = sign_in(Client(), "hana.helpdesk", headers={"User-Agent": USER_AGENT})

    row = AuditEvent.objects.get(action=Action.SIGN_IN)
    assert row.outcome == Outcome.SUCCESS
    assert row.actor == helpdesk
    assert row.actor_username == "hana.helpdesk"
    assert row.client_ip == "127.0.0.1"
    assert row.user_agent == USER_AGENT
    assert row.request_id
    assert row.request_id == response["X-Request-ID"]
    assert PASSWORD not in " ".join(audit_values(row))


@pytest.mark.django_db
def test_a_failed_sign_in_is_audited_with_the_username_and_never_the_password(
    helpdesk: User,
) -> None:
    wrong = "Tr0ub4dor&3-wrong-password"

    response = sign_in(Client(), "hana.helpdesk", wrong, headers={"User-Agent": USER_AGENT})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Please enter a correct username and password" in page
    assert wrong not in page
    row = AuditEvent.objects.get(action=Action.SIGN_IN_FAILED)
    assert row.outcome == Outcome.FAILED
    assert row.actor is None
    assert row.actor_username == "hana.helpdesk"
    assert row.client_ip == "127.0.0.1"
    assert row.user_agent == USER_AGENT
    assert row.request_id == response["X-Request-ID"]
    for value in audit_values(row):
        assert wrong not in value
        assert "Tr0ub4dor" not in value
    assert not AuditEvent.objects.filter(action=Action.SIGN_IN).exists()


@pytest.mark.django_db
def test_a_failed_sign_in_for_an_unknown_user_is_audited(db: None) -> None:
    sign_in(Client(), "mallory", "guess")

    row = AuditEvent.objects.get(action=Action.SIGN_IN_FAILED)
    assert row.actor_username == "mallory"
    assert "guess" not in " ".join(audit_values(row))


@pytest.mark.django_db
def test_a_failed_sign_in_with_an_overlong_username_is_audited_cut_to_the_column(
    db: None,
) -> None:
    response = sign_in(Client(), "a" * 5000, "guess")

    assert response.status_code == 200
    row = AuditEvent.objects.get(action=Action.SIGN_IN_FAILED)
    assert row.actor_username == "a" * 150


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("hana.helpdesk", "", "This field is required."),
        ("", PASSWORD, "This field is required."),
        ("hana.helpdesk", "p" * 300, "Ensure this value has at most 256 characters"),
    ],
)
def test_a_sign_in_form_with_a_field_error_says_what_is_wrong(
    helpdesk: User, username: str, password: str, message: str
) -> None:
    """The form is ``novalidate``, so the browser does not check it: the page must."""
    response = sign_in(Client(), username, password)

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    says_what_is_wrong = message in page
    assert says_what_is_wrong, f"the sign-in page does not say {message!r}"


@pytest.mark.django_db
def test_an_inactive_user_cannot_sign_in(helpdesk: User) -> None:
    helpdesk.is_active = False
    helpdesk.save()
    client = Client()

    response = sign_in(client, "hana.helpdesk")

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(
        action=Action.SIGN_IN_FAILED, actor_username="hana.helpdesk"
    ).exists()


@pytest.mark.django_db
def test_sign_in_never_redirects_off_site(helpdesk: User) -> None:
    response = Client().post(
        f"{LOGIN}?next=https://evil.example/",
        {"username": "hana.helpdesk", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_sign_in_follows_a_local_next(manager: User) -> None:
    response = Client().post(
        LOGIN, {"username": "mo.manager", "password": PASSWORD, "next": "/audit/"}
    )
    assert response["Location"] == "/audit/"


@pytest.mark.django_db
def test_a_no_role_user_who_signs_in_sees_the_page_saying_they_have_no_role(
    no_role: User, sandbox: ZoomSandbox
) -> None:
    client = Client()

    response = sign_in(client, "nora.norole", follow=True)

    assert response.status_code == 403
    page = response.content.decode()
    assert "You have no role in zoomadmin" in page
    assert "nora.norole" in page
    assert "belongs to neither" in page
    assert "Ask an administrator to add you" in page
    assert 'name="q"' not in page  # no search box
    assert client.get("/audit/").status_code == 403
    assert sandbox.requests == []


# --- Signing out and the session afterwards --------------------------------------------------


@pytest.mark.django_db
def test_sign_out_is_post_only(helpdesk: User) -> None:
    client = Client()
    sign_in(client, "hana.helpdesk")

    response = client.get(LOGOUT)

    assert response.status_code == 405
    assert client.get("/").status_code == 200  # a link or an image cannot sign staff out
    assert not AuditEvent.objects.filter(action=Action.SIGN_OUT).exists()


@pytest.mark.django_db
def test_sign_out_deletes_the_session_and_is_audited(helpdesk: User) -> None:
    client = Client()
    sign_in(client, "hana.helpdesk")
    old_key = client.cookies["sessionid"].value
    assert Session.objects.filter(session_key=old_key).exists()

    response = client.post(LOGOUT, headers={"User-Agent": USER_AGENT})

    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert not Session.objects.filter(session_key=old_key).exists()
    row = AuditEvent.objects.get(action=Action.SIGN_OUT)
    assert row.actor == helpdesk
    assert row.outcome == Outcome.SUCCESS
    assert row.user_agent == USER_AGENT
    assert row.request_id == response["X-Request-ID"]


@pytest.mark.django_db
def test_the_old_session_cookie_is_refused_after_sign_out(helpdesk: User) -> None:
    client = Client()
    sign_in(client, "hana.helpdesk")
    old_key = client.cookies["sessionid"].value
    client.post(LOGOUT)

    replay = Client()
    replay.cookies["sessionid"] = old_key
    response = replay.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


@pytest.mark.django_db
def test_a_deactivated_user_is_anonymous_on_the_next_request(
    helpdesk: User, sandbox: ZoomSandbox
) -> None:
    client = Client()
    sign_in(client, "hana.helpdesk")
    assert client.get("/").status_code == 200

    helpdesk.is_active = False
    helpdesk.save()
    response = client.get("/", {"q": "someone@example.com"})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert sandbox.requests == []


# --- Cookies --------------------------------------------------------------------------------


def assert_cookie_flags(morsel: Morsel[str]) -> None:
    assert morsel["httponly"] is True, morsel.OutputString()
    assert morsel["samesite"] == "Lax", morsel.OutputString()
    # tests/settings.py is production-like (DEBUG=0): Secure is on.
    assert morsel["secure"] is True, morsel.OutputString()
    assert morsel["path"] == "/"
    assert not morsel["domain"]


@pytest.mark.django_db
def test_the_session_and_csrf_cookies_are_httponly_lax_and_secure(helpdesk: User) -> None:
    client = Client()
    page = client.get(LOGIN)
    assert_cookie_flags(page.cookies["csrftoken"])

    response = sign_in(client, "hana.helpdesk")

    assert set(response.cookies) >= {"sessionid", "csrftoken"}
    assert_cookie_flags(response.cookies["sessionid"])
    assert_cookie_flags(response.cookies["csrftoken"])
    header = response.cookies["sessionid"].OutputString()
    assert "HttpOnly" in header
    assert "Secure" in header
    assert "SameSite=Lax" in header


@pytest.mark.django_db
def test_the_session_cookie_lasts_one_shift_at_most(helpdesk: User) -> None:
    response = sign_in(Client(), "hana.helpdesk")
    max_age = int(response.cookies["sessionid"]["max-age"])
    assert 0 < max_age <= 8 * 60 * 60


# --- Bad requests ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("enforce_csrf_checks", [False, True])
def test_an_oversized_post_to_the_sign_in_page_is_answered_400(
    helpdesk: User, enforce_csrf_checks: bool
) -> None:
    client = Client(enforce_csrf_checks=enforce_csrf_checks)
    token = sign_in_page_token(client)

    response = client.post(
        LOGIN,
        {
            "username": "hana.helpdesk",
            "password": PASSWORD,
            "csrfmiddlewaretoken": token,
            "padding": "x" * 200_000,
        },
    )

    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    assert not AuditEvent.objects.filter(action=Action.SIGN_IN).exists()


@pytest.mark.django_db
def test_a_sign_in_post_with_too_many_fields_is_answered_400(helpdesk: User) -> None:
    fields = {f"f{i}": "x" for i in range(500)}
    response = Client().post(LOGIN, {"username": "hana.helpdesk", "password": PASSWORD, **fields})
    assert response.status_code == 400


# --- CSRF -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_sign_in_post_without_the_csrf_token_is_403(helpdesk: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get(LOGIN)

    response = sign_in(client, "hana.helpdesk")

    assert response.status_code == 403
    assert "This page has expired" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert_csrf_refusal_audited(LOGIN)


@pytest.mark.django_db
def test_a_sign_in_post_with_the_csrf_token_works(helpdesk: User) -> None:
    """The control for the CSRF refusals: the same client, with the page's token."""
    client = Client(enforce_csrf_checks=True)
    token = sign_in_page_token(client)

    response = sign_in(client, "hana.helpdesk", token=token)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(helpdesk.pk)


@pytest.mark.django_db
def test_a_sign_out_post_without_the_csrf_token_is_403(helpdesk: User) -> None:
    client = signed_in(helpdesk, enforce_csrf_checks=True)
    client.get("/")

    response = client.post(LOGOUT)

    assert response.status_code == 403
    assert client.get("/").status_code == 200  # still signed in
    assert not AuditEvent.objects.filter(action=Action.SIGN_OUT).exists()


@pytest.mark.django_db
def test_a_force_logout_post_without_the_csrf_token_is_403(
    helpdesk: User, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    client = signed_in(helpdesk, enforce_csrf_checks=True)
    client.get("/")

    response = client.post("/force-logout/", force_logout_fields(sso_user))

    assert response.status_code == 403
    assert zoom_deletes(sandbox) == []
    assert not AuditEvent.objects.filter(action=Action.FORCE_LOGOUT_REQUESTED).exists()


@pytest.mark.django_db
def test_an_htmx_force_logout_without_the_csrf_header_is_403_with_hx_refresh(
    helpdesk: User, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    client = signed_in(helpdesk, enforce_csrf_checks=True)
    client.get("/")

    response = client.post(
        "/force-logout/",
        force_logout_fields(sso_user),
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/"},
    )

    assert response.status_code == 403
    assert response["HX-Refresh"] == "true"
    assert zoom_deletes(sandbox) == []
    assert not AuditEvent.objects.filter(action=Action.FORCE_LOGOUT_REQUESTED).exists()
    assert_csrf_refusal_audited("/force-logout/", actor=helpdesk)


@pytest.mark.django_db(transaction=True)
def test_an_htmx_force_logout_with_the_pages_csrf_header_reaches_zoom(
    helpdesk: User, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    """The control: the token htmx sends from <body hx-headers> is accepted."""
    client = signed_in(helpdesk, enforce_csrf_checks=True)
    token = htmx_csrf_token_in(client.get("/").content.decode())

    response = client.post(
        "/force-logout/",
        force_logout_fields(sso_user),
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )

    assert response.status_code == 200
    assert "HX-Refresh" not in response
    assert zoom_deletes(sandbox) == [f"/users/{sso_user.id}/token"]


@pytest.mark.django_db
def test_a_stale_csrf_token_from_before_sign_in_is_refused(
    helpdesk: User, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    """An old tab: the token it holds was rotated when its user signed in again."""
    client = Client(enforce_csrf_checks=True)
    old_token = sign_in_page_token(client)
    sign_in(client, "hana.helpdesk", token=old_token)
    assert client.session["_auth_user_id"] == str(helpdesk.pk)

    response = client.post(
        "/force-logout/", force_logout_fields(sso_user), headers={"X-CSRFToken": old_token}
    )

    assert response.status_code == 403
    assert zoom_deletes(sandbox) == []


@pytest.mark.django_db
def test_a_cross_origin_post_with_a_valid_token_is_403(helpdesk: User) -> None:
    client = Client(enforce_csrf_checks=True)
    token = sign_in_page_token(client)

    response = sign_in(
        client, "hana.helpdesk", token=token, headers={"Origin": "https://evil.example"}
    )

    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
    assert not AuditEvent.objects.filter(action=Action.SIGN_IN).exists()
    row = assert_csrf_refusal_audited(LOGIN)
    assert "evil.example" in row.detail  # Django's reason names the origin


@pytest.mark.django_db
def test_a_same_origin_post_with_a_valid_token_is_accepted(helpdesk: User) -> None:
    """The control for the cross-origin refusal: only the Origin differs."""
    client = Client(enforce_csrf_checks=True)
    token = sign_in_page_token(client)

    response = sign_in(
        client, "hana.helpdesk", token=token, headers={"Origin": "http://testserver"}
    )

    assert response.status_code == 302


@pytest.mark.django_db
def test_a_cross_origin_htmx_force_logout_with_a_valid_token_is_403(
    helpdesk: User, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    client = signed_in(helpdesk, enforce_csrf_checks=True)
    token = htmx_csrf_token_in(client.get("/").content.decode())

    response = client.post(
        "/force-logout/",
        force_logout_fields(sso_user),
        headers={"HX-Request": "true", "X-CSRFToken": token, "Origin": "https://evil.example"},
    )

    assert response.status_code == 403
    assert zoom_deletes(sandbox) == []
