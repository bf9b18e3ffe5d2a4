"""A small cast: staff in each role, and a Zoom sandbox behind `responses`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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
def sandbox(zoom_http: responses.RequestsMock) -> Iterator[ZoomSandbox]:
    """The Zoom sandbox answering every request to the configured Zoom base URLs.

    Afterwards, every API request the product sent is checked against Zoom's OpenAPI
    description: method, path, query parameters and their values.
    """
    fake = configured_sandbox(user_count=60)
    install(
        fake,
        zoom_http,
        api_base_url=settings.ZOOM_API_BASE_URL,
        oauth_base_url=settings.ZOOM_OAUTH_BASE_URL,
    )
    yield fake
    assert_requests_follow_the_spec(fake)


def configured_sandbox(**options: Any) -> ZoomSandbox:
    """A business-plan sandbox that accepts the Zoom credentials the settings hold."""
    return ZoomSandbox(
        plan="business",
        account_id=settings.ZOOM_ACCOUNT_ID,
        client_id=settings.ZOOM_CLIENT_ID,
        client_secret=settings.ZOOM_CLIENT_SECRET,
        **options,
    )


def assert_requests_follow_the_spec(fake: ZoomSandbox) -> None:
    from urllib.parse import urlencode

    from tests.zoom.openapi import validate_request

    for request in fake.requests:
        if request.host == "api":
            query = urlencode(request.query, doseq=True)
            validate_request(request.method, f"/v2{request.path}?{query}")


@pytest.fixture
def sso_users(sandbox: ZoomSandbox) -> list[SandboxUser]:
    return [u for u in sandbox.users if u.is_sso and u.status == "active"]


def active_user(sandbox: ZoomSandbox, *, sso: bool) -> SandboxUser:
    """The sandbox's first active user who does (or does not) sign in with SSO."""
    return next(u for u in sandbox.users if u.is_sso == sso and u.status == "active")


@pytest.fixture
def sso_user(sandbox: ZoomSandbox) -> SandboxUser:
    return active_user(sandbox, sso=True)


@pytest.fixture
def non_sso_user(sandbox: ZoomSandbox) -> SandboxUser:
    return active_user(sandbox, sso=False)


def make_staff(username: str, *, group: str | None = None, superuser: bool = False) -> User:
    user = User.objects.create_user(
        username=username, password=PASSWORD, is_superuser=superuser, is_staff=superuser
    )
    if group:
        # get_or_create: transactional tests flush the groups the data migration made.
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


# The cast's agent and manager, also made by tests/browser in a transactional database.
def make_helpdesk() -> User:
    return make_staff("hana.helpdesk", group="Helpdesk")


def make_manager() -> User:
    return make_staff("mo.manager", group="Managers")


@pytest.fixture
def helpdesk(db: None) -> User:
    return make_helpdesk()


@pytest.fixture
def manager(db: None) -> User:
    return make_manager()


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


@pytest.fixture(autouse=True, scope="session")
def audit_table_flushable_between_tests() -> Iterator[None]:
    """The audit table's triggers refuse the flush that ends each transactional test;
    lift them for that flush only (tests/audit/helpers.py). Production is untouched."""
    from tests.audit.helpers import flush_lifts_append_only

    with flush_lifts_append_only():
        yield


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


class FakeClock:
    """Stands in for transport.clock: retry pauses take no time, deadlines still hold."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True)
def zoom_clock(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> FakeClock | None:
    """Retry pauses are instant in tests, unless marked ``real_clock``."""
    if request.node.get_closest_marker("real_clock"):
        return None
    from zoomadmin.zoom import transport

    fake = FakeClock()
    monkeypatch.setattr(transport, "clock", fake)
    return fake
