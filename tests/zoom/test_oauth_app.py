"""The OAuth app (authorization code + PKCE): connect, refresh with rotation, disconnect."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from tests.conftest import signed_in
from tests.flows import search, text
from tests.threads import run_at_once
from zoomadmin.audit.models import Action, AuditEvent, Outcome
from zoomadmin.zoom import client, tokens
from zoomadmin.zoom.errors import ZoomConnectionBroken, ZoomNotConfigured
from zoomadmin.zoom.models import ZoomToken
from zoomadmin.zoom.sandbox import SandboxUser, ZoomSandbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def oauth_app(settings: Settings) -> None:
    """Only the client pair is set: an OAuth app that an administrator connects."""
    settings.ZOOM_AUTH_MODE = "oauth_app"
    settings.ZOOM_ACCOUNT_ID = ""


@pytest.fixture
def admin_client(superuser: User) -> Client:
    return signed_in(superuser)


def connect(admin_client: Client) -> requests.Response:
    """Click Connect Zoom, let the sandbox consent, follow Zoom back to the callback."""
    start = admin_client.post("/zoom/connect/", secure=True)
    assert start.status_code == 302
    authorize = requests.get(start["Location"], allow_redirects=False, timeout=5)
    assert authorize.status_code == 302, authorize.text
    back = urlsplit(authorize.headers["Location"])
    return admin_client.get(f"{back.path}?{back.query}", secure=True)  # type: ignore[return-value]


def test_connect_sends_the_administrator_to_zoom_with_state_and_pkce(
    oauth_app: None, admin_client: Client, sandbox: ZoomSandbox, settings: Settings
) -> None:
    start = admin_client.post("/zoom/connect/", secure=True)

    url = urlsplit(start["Location"])
    assert f"{url.scheme}://{url.netloc}" == settings.ZOOM_OAUTH_BASE_URL
    assert url.path == "/oauth/authorize"
    query = parse_qs(url.query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [settings.ZOOM_CLIENT_ID]
    assert query["redirect_uri"] == ["https://testserver/zoom/callback/"]
    assert query["code_challenge_method"] == ["S256"]
    verifier = admin_client.session["zoom_oauth_pending"]["verifier"]
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert query["code_challenge"] == [expected.decode()]
    assert len(query["state"][0]) >= 32


def test_the_callback_stores_both_tokens_encrypted_and_is_audited(
    oauth_app: None, admin_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    response = connect(admin_client)

    assert response.status_code == 302
    assert response["Location"] == "/zoom/"
    row = ZoomToken.objects.get()
    access, refresh = (
        tokens.decrypt(row.access_token_encrypted),
        tokens.decrypt(row.refresh_token_encrypted),
    )
    assert access not in row.access_token_encrypted
    assert refresh not in row.refresh_token_encrypted
    assert row.connected_by == "ada.admin"
    audit = AuditEvent.objects.get(action=Action.ZOOM_CONNECTED)
    assert audit.outcome == Outcome.SUCCESS
    assert access not in audit.detail and refresh not in audit.detail
    # The dashboard now works with that token.
    assert client.get_user(sso_user.email)[0].email == sso_user.email
    page = text(admin_client.get("/zoom/"))
    assert "Working" in page and "user:read:admin" in page
    assert access not in page and refresh not in page


def test_a_callback_with_the_wrong_state_is_refused(
    oauth_app: None, admin_client: Client, sandbox: ZoomSandbox
) -> None:
    admin_client.post("/zoom/connect/", secure=True)

    response = admin_client.get("/zoom/callback/?code=abc&state=forged", secure=True)

    assert response.status_code == 302
    assert not ZoomToken.objects.exists()
    audit = AuditEvent.objects.get(action=Action.ZOOM_CONNECTED)
    assert audit.outcome == Outcome.FAILED
    assert "did not match" in audit.detail
    assert not [r for r in sandbox.requests if r.path == "/oauth/token"]


def test_zoom_saying_no_is_reported(
    oauth_app: None, admin_client: Client, sandbox: ZoomSandbox
) -> None:
    admin_client.post("/zoom/connect/", secure=True)
    state = admin_client.session["zoom_oauth_pending"]["state"]

    response = admin_client.get(f"/zoom/callback/?error=access_denied&state={state}", secure=True)

    assert response.status_code == 302
    assert "access_denied" in AuditEvent.objects.get(action=Action.ZOOM_CONNECTED).detail
    assert not ZoomToken.objects.exists()


def test_an_expired_token_is_refreshed_and_the_refresh_token_rotates(
    oauth_app: None, admin_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    connect(admin_client)
    first_refresh = tokens.decrypt(ZoomToken.objects.get().refresh_token_encrypted)
    ZoomToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    client.get_user(sso_user.email)

    assert sandbox.token_grants.get("refresh_token") == 1
    assert tokens.decrypt(ZoomToken.objects.get().refresh_token_encrypted) != first_refresh


def test_a_refused_refresh_breaks_the_connection_and_helpdesk_is_told(
    oauth_app: None,
    admin_client: Client,
    helpdesk_client: Client,
    sandbox: ZoomSandbox,
    sso_user: SandboxUser,
) -> None:
    connect(admin_client)
    sandbox.revoke_all_tokens()  # Zoom forgot the grant (revoked in Zoom's admin, say)
    ZoomToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = search(helpdesk_client, sso_user.email)

    assert "needs an administrator" in text(response)
    assert "Traceback" not in response.content.decode()
    row = ZoomToken.objects.get()
    assert "Invalid Token" in row.broken_reason or "invalid_grant" in row.broken_reason
    assert row.refresh_token_encrypted == ""
    refreshes = sandbox.token_grants.get("refresh_token", 0)
    with pytest.raises(ZoomConnectionBroken):
        client.get_user(sso_user.email)
    assert sandbox.token_grants.get("refresh_token", 0) == refreshes, "a dead token is not retried"
    assert "Broken" in text(admin_client.get("/zoom/"))


def test_disconnect_revokes_at_zoom_deletes_and_is_audited(
    oauth_app: None, admin_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    connect(admin_client)

    response = admin_client.post("/zoom/disconnect/", secure=True)

    assert response.status_code == 302
    assert [r.path for r in sandbox.requests if r.path == "/oauth/revoke"] == ["/oauth/revoke"]
    assert not ZoomToken.objects.exists()
    assert AuditEvent.objects.get(action=Action.ZOOM_DISCONNECTED).outcome == Outcome.SUCCESS
    with pytest.raises(ZoomNotConfigured):
        client.get_user(sso_user.email)


def test_not_connected_yet_tells_staff_an_administrator_is_needed(
    oauth_app: None, helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    response = search(helpdesk_client, sso_user.email)
    assert "needs an administrator" in text(response)
    assert [r for r in sandbox.requests if r.host == "api"] == []


def test_connect_is_only_for_an_oauth_app(admin_client: Client, sandbox: ZoomSandbox) -> None:
    response = admin_client.post("/zoom/connect/", secure=True)
    assert response["Location"] == "/zoom/"
    assert sandbox.requests == []


def test_the_connection_page_is_for_superusers_only(
    helpdesk_client: Client, manager_client: Client
) -> None:
    assert helpdesk_client.get("/zoom/").status_code == 403
    assert manager_client.get("/zoom/").status_code == 403
    assert AuditEvent.objects.filter(action=Action.DENIED, detail__contains="/zoom/").count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sixteen_concurrent_requests_with_an_expired_token_refresh_once(
    oauth_app: None, admin_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    connect(admin_client)
    ZoomToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    errors = run_at_once(16, lambda: client.get_user(sso_user.email))

    assert errors == []
    assert sandbox.token_grants.get("refresh_token") == 1
    assert len([r for r in sandbox.requests if r.endpoint == "get_user"]) == 16
