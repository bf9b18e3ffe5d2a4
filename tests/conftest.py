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
def zoom_http() -> Iterator[responses.RequestsMock]:
    """Every outgoing HTTP request of the test goes through this mock (unmatched: refused)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def sandbox(zoom_http: responses.RequestsMock) -> ZoomSandbox:
    """The Zoom sandbox answering every request to the configured Zoom base URLs."""
    fake = ZoomSandbox(
        user_count=60,
        plan="business",
        account_id=settings.ZOOM_ACCOUNT_ID,
        client_id=settings.ZOOM_CLIENT_ID,
        client_secret=settings.ZOOM_CLIENT_SECRET,
    )
    install(
        fake,
        zoom_http,
        api_base_url=settings.ZOOM_API_BASE_URL,
        oauth_base_url=settings.ZOOM_OAUTH_BASE_URL,
    )
    return fake


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
        # get_or_create: transactional tests flush the groups the data migration made.
        user.groups.add(Group.objects.get_or_create(name=group)[0])
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


def pytest_runtest_setup(item: pytest.Item) -> None:
    from django.db import connection

    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://… (CI does)")


def pytest_sessionstart(session: pytest.Session) -> None:
    import os

    from django.db import connection

    # CI's PostgreSQL run must really be on PostgreSQL, or its postgres tests would skip.
    if os.environ.get("ZOOMADMIN_REQUIRE_POSTGRES") == "1" and connection.vendor != "postgresql":
        raise pytest.UsageError("ZOOMADMIN_REQUIRE_POSTGRES=1 but DATABASE_URL is not PostgreSQL")
