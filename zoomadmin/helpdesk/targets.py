"""A search result, signed, so the confirm and force-logout steps can trust it.

The confirmation form carries the Zoom user as the search showed it (id, email,
name, SSO or not) in a signed, timestamped value: the agent confirms what they saw,
the audit row freezes it, and nobody can edit the hidden field to aim at someone else.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum

from django.core import signing

from zoomadmin.zoom.client import SSO_LOGIN_TYPE, ZoomUser
from zoomadmin.zoom.ids import is_user_reference

_SALT = "zoomadmin.helpdesk.target"
# A result older than this is searched again: a user's status can change in an hour.
MAX_AGE_SECONDS = 60 * 60
# Far longer than any signed target: anything longer was not made by ``Target.sign``.
MAX_SIGNED_LENGTH = 4000

LOGIN_TYPE_NAMES = {
    0: "Facebook",
    1: "Google",
    11: "phone number",
    21: "WeChat",
    23: "Alipay",
    24: "Apple",
    27: "Microsoft",
    97: "mobile device",
    98: "RingCentral",
    99: "API",
    100: "Zoom work email",
    101: "SSO",
}


class Problem(StrEnum):
    """Why a confirmation's target cannot be trusted."""

    MISSING = "missing"
    INVALID = "invalid"
    EXPIRED = "expired"
    # The form's submission id, which belongs with its target: damaged, or first used
    # for another Zoom user (a forged post).
    SUBMISSION_INVALID = "submission invalid"
    SUBMISSION_REUSED = "submission reused"


_ALTERED = "This search result was damaged or altered, so it cannot be trusted."
_FORM_ALTERED = "This confirmation form was damaged or altered, so it cannot be trusted."
# What the agent reads: an old result is routine (a tab left open), a damaged one is not.
_MESSAGES = {
    Problem.MISSING: _ALTERED,
    Problem.INVALID: _ALTERED,
    Problem.EXPIRED: "This search result is over an hour old, and a Zoom user's status "
    "can change in an hour.",
    Problem.SUBMISSION_INVALID: _FORM_ALTERED,
    Problem.SUBMISSION_REUSED: _FORM_ALTERED,
}
# What the audit row says: whoever reviews it can tell a stale tab from a forged post.
_AUDIT_DETAILS = {
    Problem.MISSING: "no search result in the request",
    Problem.INVALID: "search result damaged or altered",
    Problem.EXPIRED: "search result over an hour old",
    Problem.SUBMISSION_INVALID: "confirmation form's submission id damaged or altered",
    Problem.SUBMISSION_REUSED: "confirmation form reused for another Zoom user",
}


class BadTarget(Exception):
    """The signed target is missing, altered or too old, or came with a bad submission id.

    The one place that words the refusal, for the page and the audit row alike.
    """

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.value)
        self.problem = problem

    @property
    def message(self) -> str:
        return _MESSAGES[self.problem]

    @property
    def audit_detail(self) -> str:
        return _AUDIT_DETAILS[self.problem]


@dataclass(frozen=True)
class Target:
    zoom_id: str
    email: str
    name: str
    status: str
    login_types: tuple[int, ...]
    # False for a row from the local directory: Zoom's user list carries no login types,
    # so whether the user signs in with SSO is not known (and must not be claimed).
    login_types_known: bool = True

    @property
    def signs_in_with_sso(self) -> bool:
        return SSO_LOGIN_TYPE in self.login_types

    @property
    def sign_in_methods(self) -> str:
        if not self.login_types_known:
            return "unknown"
        names = [LOGIN_TYPE_NAMES.get(t, f"type {t}") for t in self.login_types]
        return ", ".join(names) or "unknown"

    @property
    def zoom_reference(self) -> str:
        """What to put in Zoom's URL: the id, or the email for users Zoom gave no id."""
        return self.zoom_id or self.email

    @classmethod
    def from_user(cls, user: ZoomUser) -> Target:
        return cls(
            zoom_id=user.id,
            email=user.email,
            name=user.name,
            status=user.status,
            login_types=user.login_types,
        )

    def sign(self) -> str:
        return signing.dumps(asdict(self), salt=_SALT, compress=True)


def load_target(value: str | None) -> Target:
    if not value:
        raise BadTarget(Problem.MISSING)
    if len(value) > MAX_SIGNED_LENGTH:
        raise BadTarget(Problem.INVALID)
    try:
        data = signing.loads(value, salt=_SALT, max_age=MAX_AGE_SECONDS)
        target = Target(
            zoom_id=str(data["zoom_id"]),
            email=str(data["email"]),
            name=str(data["name"]),
            status=str(data["status"]),
            login_types=tuple(int(t) for t in data["login_types"]),
            # Absent from values signed before the field existed: those came from Zoom.
            login_types_known=data.get("login_types_known", True) is not False,
        )
    except signing.SignatureExpired:
        raise BadTarget(Problem.EXPIRED) from None
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise BadTarget(Problem.INVALID) from None
    if not is_user_reference(target.zoom_reference):
        raise BadTarget(Problem.INVALID)
    return target
