"""Sign-in, failed sign-in and sign-out land in the audit log, whichever view did them."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import user_logged_in, user_logged_out, user_login_failed
from django.contrib.auth.base_user import AbstractBaseUser
from django.dispatch import receiver
from django.http import HttpRequest

from zoomadmin.audit.log import record
from zoomadmin.audit.models import Action, Outcome

# AuditEvent.actor_username's max_length: a pasted novel is cut, not a database error.
_MAX_USERNAME = 150


def audited_username(typed: object) -> str:
    """A typed username as a sign-in failure's audit row holds it: cut to the column."""
    return str(typed)[:_MAX_USERNAME]


@receiver(user_logged_in)
def audit_sign_in(sender: object, request: HttpRequest, user: AbstractBaseUser, **_: Any) -> None:
    record(Action.SIGN_IN, request=request, actor=user, outcome=Outcome.SUCCESS)


@receiver(user_login_failed)
def audit_failed_sign_in(
    sender: object, credentials: dict[str, Any], request: HttpRequest | None = None, **_: Any
) -> None:
    # Django has already masked the password in ``credentials``; keep only the name.
    record(
        Action.SIGN_IN_FAILED,
        request=request,
        actor_username=audited_username(credentials.get("username", "")),
        outcome=Outcome.FAILED,
        detail="wrong username or password, or the account is inactive",
    )


@receiver(user_logged_out)
def audit_sign_out(
    sender: object, request: HttpRequest, user: AbstractBaseUser | None, **_: Any
) -> None:
    if user is not None:
        record(Action.SIGN_OUT, request=request, actor=user, outcome=Outcome.SUCCESS)
