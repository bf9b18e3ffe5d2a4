"""Sign-in throttling: five failed sign-ins for a username from one address, and that
username waits 15 minutes before it may try again from there, right password or not."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from tests.conftest import PASSWORD
from zoomadmin.accounts.throttle import locked_until
from zoomadmin.audit.models import Action, AuditEvent, Outcome

LOGIN = "/accounts/login/"
OFFICE = "203.0.113.7"
ELSEWHERE = "198.51.100.20"

pytestmark = pytest.mark.django_db


def attempt(username: str, password: str, address: str = OFFICE) -> Client:
    client = Client(REMOTE_ADDR=address)
    client.post(LOGIN, {"username": username, "password": password})
    return client


def fail(username: str, times: int, address: str = OFFICE) -> None:
    for _ in range(times):
        attempt(username, "wrong password", address)


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_five_failures_lock_the_username_out_even_with_the_right_password(
    helpdesk: User,
) -> None:
    fail("hana.helpdesk", 5)

    with mock.patch("django.contrib.auth.forms.authenticate") as authenticate:
        client = Client(REMOTE_ADDR=OFFICE)
        page = client.post(LOGIN, {"username": "hana.helpdesk", "password": PASSWORD})

    assert page.status_code == 200
    assert not is_signed_in(client)
    authenticate.assert_not_called()  # the password was not even checked
    body = page.content.decode()
    assert "Too many failed sign-ins for this username from your address" in body
    assert "Try again in 15 minutes" in body
    refusal = AuditEvent.objects.order_by("-seq").first()
    assert refusal is not None
    assert (refusal.action, refusal.outcome) == (Action.SIGN_IN_FAILED, Outcome.DENIED)
    assert (refusal.actor_username, refusal.client_ip) == ("hana.helpdesk", OFFICE)
    assert "password was not checked" in refusal.detail


def test_four_failures_do_not_lock_anyone_out(helpdesk: User) -> None:
    fail("hana.helpdesk", 4)

    assert is_signed_in(attempt("hana.helpdesk", PASSWORD))


def test_the_lockout_is_per_username_and_address(helpdesk: User, manager: User) -> None:
    fail("hana.helpdesk", 5)

    # Not the office: an attacker there does not lock the account out everywhere,
    assert is_signed_in(attempt("hana.helpdesk", PASSWORD, ELSEWHERE))
    # nor everyone else in the office.
    assert is_signed_in(attempt("mo.manager", PASSWORD))
    assert not is_signed_in(attempt("hana.helpdesk", PASSWORD))


def test_changing_the_case_of_the_username_does_not_escape_the_count(helpdesk: User) -> None:
    fail("HANA.helpdesk", 3)
    fail("hana.HELPDESK", 2)

    assert not is_signed_in(attempt("hana.helpdesk", PASSWORD))


def test_a_successful_sign_in_starts_the_count_again(helpdesk: User) -> None:
    fail("hana.helpdesk", 4)
    assert is_signed_in(attempt("hana.helpdesk", PASSWORD))
    fail("hana.helpdesk", 4)

    assert is_signed_in(attempt("hana.helpdesk", PASSWORD))


def test_the_lock_lifts_15_minutes_after_the_last_failure_and_refusals_do_not_extend_it(
    helpdesk: User,
) -> None:
    fail("hana.helpdesk", 5)
    last_failure = AuditEvent.objects.filter(outcome=Outcome.FAILED).latest("seq").created_at
    for _ in range(3):  # the attacker keeps trying: refused, not counted
        attempt("hana.helpdesk", "another guess")

    assert AuditEvent.objects.filter(outcome=Outcome.DENIED).count() == 3
    assert locked_until("hana.helpdesk", OFFICE) == last_failure + timedelta(minutes=15)
    later = last_failure + timedelta(minutes=15, seconds=1)
    assert locked_until("hana.helpdesk", OFFICE, now=later) is None


def test_usernames_that_do_not_exist_are_throttled_alike(db: None) -> None:
    """Otherwise the lockout would tell an attacker which usernames are real."""
    fail("no.such.person", 5)

    page = Client(REMOTE_ADDR=OFFICE).post(LOGIN, {"username": "no.such.person", "password": "x"})

    assert "Too many failed sign-ins" in page.content.decode()


def test_the_limit_and_the_period_are_settings(helpdesk: User, settings: Settings) -> None:
    settings.SIGN_IN_MAX_FAILURES = 3
    settings.SIGN_IN_LOCKOUT_MINUTES = 2
    fail("hana.helpdesk", 3)

    until = locked_until("hana.helpdesk", OFFICE)

    assert until is not None
    assert timedelta(minutes=1) < until - timezone.now() <= timedelta(minutes=2)
    assert not is_signed_in(attempt("hana.helpdesk", PASSWORD))
