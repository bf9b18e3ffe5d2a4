"""A small cast: staff in each role, and a Zoom sandbox behind `responses`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.test import Client

from zoomadmin.zoom.sandbox import SandboxUser, ZoomSandbox
from zoomadmin.zoom.sandbox.mock import install

PASSWORD = "correct horse battery staple"


@pytest.fixture
def sandbox() -> Iterator[ZoomSandbox]:
    """The Zoom sandbox answering every request to the configured Zoom base URLs."""
    fake = ZoomSandbox(
        user_count=60,
        plan="business",
        account_id=settings.ZOOM_ACCOUNT_ID,
        client_id=settings.ZOOM_CLIENT_ID,
        client_secret=settings.ZOOM_CLIENT_SECRET,
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        install(
            fake,
            rsps,
            api_base_url=settings.ZOOM_API_BASE_URL,
            oauth_base_url=settings.ZOOM_OAUTH_BASE_URL,
        )
        yield fake


@pytest.fixture
def sso_user(sandbox: ZoomSandbox) -> SandboxUser:
    return next(u for u in sandbox.users if u.is_sso and u.status == "active")


@pytest.fixture
def non_sso_user(sandbox: ZoomSandbox) -> SandboxUser:
    return next(u for u in sandbox.users if not u.is_sso and u.status == "active")


def make_staff(username: str, *, group: str | None = None, superuser: bool = False) -> User:
    user = User.objects.create_user(
        username=username, password=PASSWORD, is_superuser=superuser, is_staff=superuser
    )
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def helpdesk(db: None) -> User:
    return make_staff("hana.helpdesk", group="Helpdesk")


@pytest.fixture
def manager(db: None) -> User:
    return make_staff("mo.manager", group="Managers")


@pytest.fixture
def superuser(db: None) -> User:
    return make_staff("ada.admin", superuser=True)


@pytest.fixture
def no_role(db: None) -> User:
    return make_staff("nora.norole")


def signed_in(user: User, **client_options: object) -> Client:
    client = Client(**client_options)  # type: ignore[arg-type]
    client.force_login(user)
    return client


@pytest.fixture
def helpdesk_client(helpdesk: User) -> Client:
    return signed_in(helpdesk)


@pytest.fixture
def manager_client(manager: User) -> Client:
    return signed_in(manager)
