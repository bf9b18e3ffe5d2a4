from __future__ import annotations

import unicodedata

from django import forms
from django.core.exceptions import ValidationError

from zoomadmin.helpdesk.targets import BadTarget, Target, load_target
from zoomadmin.zoom.ids import is_user_reference

MAX_QUERY_LENGTH = 200
MAX_REASON_LENGTH = 500


def _has_control_characters(value: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in value)


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Email address or Zoom user ID",
        max_length=MAX_QUERY_LENGTH,
        error_messages={
            "required": "Enter the user's email address or Zoom user ID.",
            "max_length": "That is too long for an email address or a Zoom user ID.",
        },
    )

    def clean_q(self) -> str:
        query: str = self.cleaned_data["q"]
        if _has_control_characters(query) or not is_user_reference(query):
            raise ValidationError(
                "Enter an email address (name@example.com) or a Zoom user ID "
                "(22 letters, digits, - or _)."
            )
        return query


class ForceLogoutForm(forms.Form):
    target = forms.CharField(widget=forms.HiddenInput, max_length=4000)
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

    def clean_target(self) -> Target:
        try:
            return load_target(self.cleaned_data["target"])
        except BadTarget as error:
            if str(error) == "expired":
                raise ValidationError(
                    "This search result is over an hour old: search again."
                ) from None
            raise ValidationError("This search result is damaged: search again.") from None
