"""The Server-to-Server token: fetched once, encrypted at rest, refreshed on expiry or 401."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from tests.flows import force_logout, search
from tests.threads import run_at_once
from zoomadmin.audit.models import AuditEvent
from zoomadmin.zoom import client, tokens
from zoomadmin.zoom.errors import ZoomAuthFailed, ZoomNotConfigured
from zoomadmin.zoom.models import ZoomToken
from zoomadmin.zoom.sandbox import SandboxUser, ZoomSandbox

pytestmark = pytest.mark.django_db


def token_requests(sandbox: ZoomSandbox) -> list[dict[str, list[str]]]:
    return [
        parse_qs(r.body.decode())
        for r in sandbox.requests
        if r.host == "oauth" and r.path == "/oauth/token"
    ]


def test_token_request_is_account_credentials_in_the_form_body(sandbox: ZoomSandbox) -> None:
    tokens.access_token()

    [request] = [r for r in sandbox.requests if r.host == "oauth"]
    assert (request.method, request.path) == ("POST", "/oauth/token")
    assert request.query == {}, "parameters go in the form body, never the query string"
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert request.headers["authorization"].lower().startswith("basic")
    form = parse_qs(request.body.decode())
    assert form["grant_type"] == ["account_credentials"]
    assert form["account_id"] == ["sandbox-account"]
    assert "client_secret" not in form and "client_id" not in form
    assert sandbox.token_grants == {"account_credentials": 1}


def test_one_token_serves_many_calls(sandbox: ZoomSandbox, sso_user: SandboxUser) -> None:
    for _ in range(5):
        client.get_user(sso_user.email)

    assert sandbox.token_grants == {"account_credentials": 1}


def test_token_is_encrypted_at_rest(sandbox: ZoomSandbox) -> None:
    token = tokens.access_token()

    row = ZoomToken.objects.get()
    assert token not in row.access_token_encrypted
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token_encrypted FROM zoom_zoomtoken")
        (stored,) = cursor.fetchone()
    assert token not in stored
    assert tokens.decrypt(stored) == token
    assert row.expires_at is not None and row.expires_at > timezone.now() + timedelta(minutes=50)


def test_a_token_about_to_expire_is_replaced_before_use(
    sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    first = tokens.access_token()
    ZoomToken.objects.update(expires_at=timezone.now() + timedelta(seconds=30))

    client.get_user(sso_user.email)

    assert sandbox.token_grants == {"account_credentials": 2}
    assert tokens.access_token() != first


def test_expired_token_gets_exactly_one_new_token_and_one_retry(
    sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    tokens.access_token()
    sandbox.expire_access_tokens()
    sandbox.clear_history()

    user, _ = client.get_user(sso_user.email)

    assert user.email == sso_user.email
    assert sandbox.token_grants == {"account_credentials": 1}
    api = [(r.method, r.status) for r in sandbox.requests if r.host == "api"]
    assert api == [("GET", 401), ("GET", 200)]


def test_a_second_401_is_not_retried_again(sandbox: ZoomSandbox, sso_user: SandboxUser) -> None:
    tokens.access_token()
    sandbox.clear_history()
    sandbox.add_fault(endpoint="revoke", status=401, code=124, times=5)

    with pytest.raises(ZoomAuthFailed) as raised:
        client.revoke_sso_token(sso_user.id)

    assert "needs an administrator" in raised.value.agent_message
    assert sandbox.token_grants == {"account_credentials": 1}
    assert [r.method for r in sandbox.requests if r.host == "api"] == ["DELETE", "DELETE"]
    assert sandbox.revocations == []


def test_bad_client_credentials_tell_staff_an_administrator_is_needed(
    sandbox: ZoomSandbox, sso_user: SandboxUser, settings: Settings
) -> None:
    settings.ZOOM_CLIENT_SECRET = "wrong-secret"

    with pytest.raises(ZoomAuthFailed) as raised:
        client.get_user(sso_user.email)

    assert "needs an administrator" in raised.value.agent_message
    assert not ZoomToken.objects.exclude(access_token_encrypted="").exists()


def test_no_credentials_means_not_configured(settings: Settings, sso_user: SandboxUser) -> None:
    settings.ZOOM_AUTH_MODE = "unconfigured"

    with pytest.raises(ZoomNotConfigured):
        client.get_user(sso_user.email)


def test_a_new_key_prepended_still_decrypts_old_tokens(
    sandbox: ZoomSandbox, settings: Settings, sso_user: SandboxUser
) -> None:
    token = tokens.access_token()
    settings.TOKEN_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        *settings.TOKEN_ENCRYPTION_KEYS,
    ]

    assert tokens.access_token() == token
    client.get_user(sso_user.email)
    assert sandbox.token_grants == {"account_credentials": 1}


def test_a_tampered_ciphertext_is_refused_and_replaced(
    sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    token = tokens.access_token()
    row = ZoomToken.objects.get()
    ZoomToken.objects.update(access_token_encrypted=row.access_token_encrypted[:-4] + "AAAA")

    assert tokens.access_token() != token
    assert sandbox.token_grants == {"account_credentials": 2}


def test_the_token_and_secret_never_reach_a_page_a_log_or_the_audit(
    helpdesk_client: Client,
    sandbox: ZoomSandbox,
    sso_user: SandboxUser,
    caplog: pytest.LogCaptureFixture,
    settings: Settings,
) -> None:
    caplog.set_level(logging.DEBUG)
    responses = [search(helpdesk_client, sso_user.email)]
    token = tokens.access_token()
    sandbox.expire_access_tokens()  # forces a refetch, with its logging, mid-test
    responses.append(force_logout(helpdesk_client, sso_user))
    responses.append(helpdesk_client.get("/"))
    new_token = tokens.access_token()
    assert new_token != token

    secrets = [token, new_token, settings.ZOOM_CLIENT_SECRET]
    for response in responses:
        haystack = response.content.decode() + repr(dict(response.headers))
        for secret in secrets:
            assert secret not in haystack
    for record in caplog.records:
        line = record.getMessage() + repr(record.args) + repr(record.__dict__)
        for secret in secrets:
            assert secret not in line, f"secret in log record from {record.name}"
    for row in AuditEvent.objects.all().values():
        for secret in secrets:
            assert secret not in repr(row)
    assert caplog.records, "the test must have captured some logging to prove anything"


# Row locks need PostgreSQL; SQLite serializes writers on the whole database instead.
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sixteen_concurrent_requests_with_an_expired_token_fetch_one(
    sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    tokens.access_token()
    ZoomToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    sandbox.clear_history()
    errors = run_at_once(16, lambda: client.get_user(sso_user.email))

    assert errors == []
    assert sandbox.token_grants == {"account_credentials": 1}
    assert len([r for r in sandbox.requests if r.host == "api"]) == 16
