"""A search result that cannot be trusted: the agent is told why, and the refusal is audited.

An old result (a tab left open over lunch) only needs a new search; a damaged or altered
one is worth a look. The page and the ``denied`` audit row keep the two apart.
(tests/helpdesk/test_bad_input.py throws every kind of garbage at the same two views.)
"""

from __future__ import annotations

import time
import uuid
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.flows import HTMX, Response, signed_target, text
from zoomadmin.audit.models import Action, AuditEvent, Outcome
from zoomadmin.helpdesk.targets import MAX_AGE_SECONDS
from zoomadmin.zoom.sandbox import SandboxUser, ZoomSandbox

pytestmark = pytest.mark.django_db

CONFIRM = "/force-logout/confirm/"
FORCE_LOGOUT = "/force-logout/"
OVER_AN_HOUR_OLD = "This search result is over an hour old"
DAMAGED = "This search result was damaged or altered"


def signed_ago(user: SandboxUser, seconds: float) -> str:
    """``user`` as a search result shown ``seconds`` ago: signed then, genuine."""
    with mock.patch("django.core.signing.time.time", return_value=time.time() - seconds):
        return signed_target(user)


def damaged(user: SandboxUser) -> str:
    """A fresh result with one character of its payload changed on the way back."""
    good = signed_target(user)
    middle = len(good) // 4
    return good[:middle] + ("A" if good[middle] != "A" else "B") + good[middle + 1 :]


def ask_to_confirm(client: Client, target: str, *, htmx: bool) -> Response:
    """Click "Force log out of Zoom" on a result row."""
    return client.get(CONFIRM, {"target": target}, **(HTMX if htmx else {}))


def confirm(client: Client, target: str, *, htmx: bool) -> Response:
    """Submit the confirmation form with ``target`` in its hidden field."""
    form = {"target": target, "submission_id": str(uuid.uuid4()), "reason": "INC-2201"}
    return client.post(FORCE_LOGOUT, form, **(HTMX if htmx else {}))


STEPS = {
    "confirm form": ("GET", CONFIRM, ask_to_confirm),
    "force logout": ("POST", FORCE_LOGOUT, confirm),
}


def the_refusal(agent: User) -> AuditEvent:
    """The one audit row the request wrote, besides signing in: a refusal by ``agent``."""
    row = AuditEvent.objects.exclude(action=Action.SIGN_IN).get()  # force_login's row
    assert (row.action, row.outcome, row.actor) == (Action.DENIED, Outcome.DENIED, agent)
    return row


@pytest.mark.parametrize("step", sorted(STEPS))
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_result_over_an_hour_old_says_so_and_the_refusal_is_audited_as_old(
    helpdesk: User,
    helpdesk_client: Client,
    sandbox: ZoomSandbox,
    sso_user: SandboxUser,
    step: str,
    htmx: bool,
) -> None:
    method, path, send = STEPS[step]
    old = signed_ago(sso_user, MAX_AGE_SECONDS + 60)

    response = send(helpdesk_client, old, htmx=htmx)

    assert response.status_code == 400
    page = text(response)
    assert "Nothing was sent to Zoom." in page
    assert f"{OVER_AN_HOUR_OLD}, and a Zoom user's status can change in an hour." in page
    assert "Search for the user again." in page
    assert "damaged" not in page
    assert ("<html" in response.content.decode()) is not htmx
    assert the_refusal(helpdesk).detail == f"{method} {path}: search result over an hour old"
    assert sandbox.requests == []


@pytest.mark.parametrize("step", sorted(STEPS))
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_damaged_result_says_so_and_the_refusal_is_audited_as_damaged(
    helpdesk: User,
    helpdesk_client: Client,
    sandbox: ZoomSandbox,
    sso_user: SandboxUser,
    step: str,
    htmx: bool,
) -> None:
    method, path, send = STEPS[step]

    response = send(helpdesk_client, damaged(sso_user), htmx=htmx)

    assert response.status_code == 400
    page = text(response)
    assert "Nothing was sent to Zoom." in page
    assert f"{DAMAGED}, so it cannot be trusted." in page
    assert "Search for the user again." in page
    assert "hour old" not in page
    assert the_refusal(helpdesk).detail == f"{method} {path}: search result damaged or altered"
    assert sandbox.requests == []


@pytest.mark.parametrize(
    ("target", "detail"),
    [
        ("", "no search result in the request"),
        ("\x00", "search result damaged or altered"),  # refused by the form field itself
        ("A" * 5000, "search result damaged or altered"),  # longer than any signed result
    ],
    ids=["empty", "null character", "overlong"],
)
def test_a_result_refused_before_its_signature_is_read_is_called_damaged_too(
    helpdesk: User, helpdesk_client: Client, sandbox: ZoomSandbox, target: str, detail: str
) -> None:
    response = confirm(helpdesk_client, target, htmx=True)

    assert response.status_code == 400
    assert f"{DAMAGED}, so it cannot be trusted. Search for the user again." in text(response)
    assert the_refusal(helpdesk).detail == f"POST {FORCE_LOGOUT}: {detail}"
    assert sandbox.requests == []


def test_an_old_result_that_was_also_altered_is_called_damaged(
    helpdesk: User, helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    """The signature is checked before the age: an edited old value is not merely old."""
    old = signed_ago(sso_user, 2 * MAX_AGE_SECONDS)
    payload, stamp, signature = old.rsplit(":", 2)
    other = "A" if signature[0] != "A" else "B"

    response = confirm(helpdesk_client, f"{payload}:{stamp}:{other}{signature[1:]}", htmx=True)

    assert DAMAGED in text(response)
    assert OVER_AN_HOUR_OLD not in text(response)
    assert the_refusal(helpdesk).detail.endswith(": search result damaged or altered")


def test_a_result_just_under_an_hour_old_is_still_good(
    helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    response = ask_to_confirm(
        helpdesk_client, signed_ago(sso_user, MAX_AGE_SECONDS - 60), htmx=True
    )

    assert response.status_code == 200
    assert "Confirm: force log out of Zoom" in text(response)
    assert not AuditEvent.objects.filter(action=Action.DENIED).exists()


def test_the_refusal_shows_in_the_agents_recent_actions(
    helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    confirm(helpdesk_client, signed_ago(sso_user, 2 * MAX_AGE_SECONDS), htmx=True)

    start = helpdesk_client.get("/")

    assert "Your recent actions" in text(start)
    assert "Refused Denied" in text(start)  # the row's action, then its outcome


def test_a_damaged_submission_id_blames_the_confirmation_form(
    helpdesk: User, helpdesk_client: Client, sandbox: ZoomSandbox, sso_user: SandboxUser
) -> None:
    form = {"target": signed_target(sso_user), "submission_id": "not-a-uuid", "reason": "INC-1"}

    response = helpdesk_client.post(FORCE_LOGOUT, form, **HTMX)

    assert response.status_code == 400
    assert "This confirmation form was damaged or altered" in text(response)
    assert the_refusal(helpdesk).detail == (
        f"POST {FORCE_LOGOUT}: confirmation form's submission id damaged or altered"
    )
    assert sandbox.requests == []


def test_a_submission_id_reused_for_another_user_is_refused_and_audited_once(
    helpdesk: User, helpdesk_client: Client, sandbox: ZoomSandbox, sso_users: list[SandboxUser]
) -> None:
    first, second = sso_users[:2]
    submission = str(uuid.uuid4())
    helpdesk_client.post(
        FORCE_LOGOUT,
        {"target": signed_target(first), "submission_id": submission, "reason": "INC-3"},
    )
    before = AuditEvent.objects.count()

    response = helpdesk_client.post(
        FORCE_LOGOUT,
        {"target": signed_target(second), "submission_id": submission, "reason": "INC-3"},
        **HTMX,
    )

    assert response.status_code == 400
    assert "This confirmation form was damaged or altered" in text(response)
    [refusal] = AuditEvent.objects.order_by("id")[before:]
    assert (refusal.action, refusal.actor) == (Action.DENIED, helpdesk)
    assert refusal.detail == f"POST {FORCE_LOGOUT}: confirmation form reused for another Zoom user"
    assert not [r for r in sandbox.requests if r.path == f"/users/{second.id}/token"]
