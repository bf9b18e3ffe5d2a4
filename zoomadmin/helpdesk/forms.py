from __future__ import annotations

import unicodedata
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from zoomadmin.helpdesk.targets import BadTarget, Problem, Target, load_target

MAX_QUERY_LENGTH = 200
MAX_REASON_LENGTH = 500
# Control characters, line and paragraph separators, and invisible format characters
# (bidi overrides, zero-width marks): nothing a person searches for, and nothing that
# may reach a log line, an audit row or a Zoom URL.
_REFUSED_IN_SEARCH = frozenset({"Cc", "Cf", "Zl", "Zp"})


def _has_control_characters(value: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in value)


class SearchForm(forms.Form):
    """The search box: a name, part of an email, an email address or a Zoom user ID.

    Anything printable up to ``MAX_QUERY_LENGTH`` searches the local directory; only a
    query in the shape of an email or a Zoom id is ever sent to Zoom (see the view).
    Empty is valid: the page then shows the agent's recent actions.
    """

    q = forms.CharField(
        label="Name, email address or Zoom user ID",
        required=False,
        max_length=MAX_QUERY_LENGTH,
        error_messages={
            "max_length": f"Type at most {MAX_QUERY_LENGTH} characters: no name, email "
            "address or Zoom user ID is that long.",
        },
    )

    def clean_q(self) -> str:
        query: str = self.cleaned_data["q"]
        if any(unicodedata.category(ch) in _REFUSED_IN_SEARCH for ch in query):
            raise ValidationError(
                "A search cannot contain control characters, line breaks or invisible "
                "formatting characters."
            )
        return query


class ForceLogoutForm(forms.Form):
    # Not required, no max_length: ``load_target`` refuses an empty or overlong target
    # itself, with a ``BadTarget`` that says why.
    target = forms.CharField(widget=forms.HiddenInput, required=False)
    submission_id = forms.UUIDField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label="Reason",
        max_length=MAX_REASON_LENGTH,
        help_text="Why this user must be signed out: the incident or ticket, in a few words.",
        error_messages={
            "required": "Give a reason: it goes into the audit log.",
            "max_length": f"Keep the reason under {MAX_REASON_LENGTH} characters.",
        },
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_reason(self) -> str:
        reason: str = self.cleaned_data["reason"]
        if _has_control_characters(reason):
            raise ValidationError("The reason cannot contain control characters or line breaks.")
        return reason

    # Why the target was refused, once validated (None if it was not): the view answers a
    # bad target with its own page (bad_target), worded from this, not from the field error.
    bad_target: BadTarget | None = None

    def clean_target(self) -> Target:
        try:
            return load_target(self.cleaned_data["target"])
        except BadTarget as bad:
            self.bad_target = bad
            raise ValidationError(bad.message, code=bad.problem.value) from None

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if self.has_error("target") and self.bad_target is None:
            # Refused by the field before clean_target (a null character): no value
            # ``Target.sign`` made has one, so it was altered.
            self.bad_target = BadTarget(Problem.INVALID)
        return cleaned
