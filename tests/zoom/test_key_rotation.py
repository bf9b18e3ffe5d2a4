"""TOKEN_ENCRYPTION_KEYS rotation: prepend, re-encrypt, retire; a missing key is explained."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from pytest_django.fixtures import Settings

from tests.flows import search, text
from zoomadmin.audit.models import Action, AuditEvent, Outcome
from zoomadmin.zoom import tokens
from zoomadmin.zoom.models import ZoomToken
from zoomadmin.zoom.sandbox import SandboxUser, ZoomSandbox

pytestmark = pytest.mark.django_db


def test_rotation_re_encrypts_with_the_new_first_key(
    sandbox: ZoomSandbox, settings: Settings, sso_user: SandboxUser
) -> None:
    token = tokens.access_token()
    old_key = settings.TOKEN_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.TOKEN_ENCRYPTION_KEYS = [new_key, old_key]

    out = StringIO()
    call_command("rotate_token_keys", stdout=out)

    assert "Re-encrypted 1" in out.getvalue()
    stored = ZoomToken.objects.get().access_token_encrypted
    assert MultiFernet([Fernet(new_key)]).decrypt(stored.encode()).decode() == token
    with pytest.raises(InvalidToken):
        Fernet(old_key).decrypt(stored.encode())
    # The old key can now be retired: the token still works, nothing is refetched.
    settings.TOKEN_ENCRYPTION_KEYS = [new_key]
    assert tokens.access_token() == token
    assert sandbox.token_grants == {"account_credentials": 1}


def test_rotation_with_the_old_key_gone_says_what_to_do(
    sandbox: ZoomSandbox, settings: Settings
) -> None:
    tokens.access_token()
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(CommandError, match="put the old key back"):
        call_command("rotate_token_keys", stdout=StringIO())


def test_a_removed_key_means_a_new_server_to_server_token_not_a_crash(
    helpdesk_client: Client, sandbox: ZoomSandbox, settings: Settings, sso_user: SandboxUser
) -> None:
    tokens.access_token()
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    response = search(helpdesk_client, sso_user.email)

    assert response.status_code == 200
    assert sso_user.email in text(response)
    assert sandbox.token_grants == {"account_credentials": 2}


def test_an_oauth_app_whose_key_is_gone_needs_an_administrator(
    sandbox: ZoomSandbox, settings: Settings, sso_user: SandboxUser
) -> None:
    from zoomadmin.zoom.errors import ZoomConnectionBroken
    from zoomadmin.zoom.oauth import TokenGrant

    settings.ZOOM_AUTH_MODE = "oauth_app"
    from django.utils import timezone

    tokens.store_authorization(
        TokenGrant("access", timezone.now(), "user:read:admin", "refresh"), connected_by="ada"
    )
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(ZoomConnectionBroken) as raised:
        tokens.access_token()

    assert "TOKEN_ENCRYPTION_KEYS" in raised.value.explanation
    assert "needs an administrator" in raised.value.agent_message
    assert not tokens.connection_status().working


def test_a_rotation_leaves_an_audit_row_without_the_token(
    sandbox: ZoomSandbox, settings: Settings
) -> None:
    token = tokens.access_token()
    new_key = Fernet.generate_key().decode()
    settings.TOKEN_ENCRYPTION_KEYS = [new_key, *settings.TOKEN_ENCRYPTION_KEYS]

    call_command("rotate_token_keys", stdout=StringIO())

    row = AuditEvent.objects.get(action=Action.TOKEN_KEYS_ROTATED)
    assert row.outcome == Outcome.SUCCESS
    assert "rotate_token_keys: 1 row(s) re-encrypted with the first key; run by " in row.detail
    assert token not in row.detail


def test_a_rotation_that_cannot_read_a_row_is_audited_as_failed(
    sandbox: ZoomSandbox, settings: Settings
) -> None:
    tokens.access_token()
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(CommandError):
        call_command("rotate_token_keys", stdout=StringIO())

    row = AuditEvent.objects.get(action=Action.TOKEN_KEYS_ROTATED)
    assert row.outcome == Outcome.FAILED
    assert "0 row(s) re-encrypted" in row.detail
    assert "unreadable with every key: " in row.detail
