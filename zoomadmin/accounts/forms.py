from __future__ import annotations

import math
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils import timezone

from zoomadmin.accounts import throttle
from zoomadmin.accounts.signals import audited_username
from zoomadmin.audit.log import client_ip, record
from zoomadmin.audit.models import Action, Outcome


class SignInForm(AuthenticationForm):
    # Bounded so an oversized paste is a form error, not a slow hash of a megabyte.
    password = forms.CharField(
        label="Password",
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean(self) -> dict[str, Any]:
        """Refuse a username locked out from this address before checking any password
        (so guessing stops), and record the refusal; otherwise Django's own checks."""
        # As the failures' audit rows have it, so the count finds them.
        username = audited_username(self.cleaned_data.get("username") or "")
        if username and self.request is not None:
            until = throttle.locked_until(username, client_ip(self.request))
            if until is not None:
                minutes = max(1, math.ceil((until - timezone.now()).total_seconds() / 60))
                record(
                    Action.SIGN_IN_FAILED,
                    request=self.request,
                    actor_username=username,
                    outcome=Outcome.DENIED,
                    detail=(
                        f"locked out: {settings.SIGN_IN_MAX_FAILURES} failed sign-ins from "
                        f"this address; the password was not checked ({minutes} min left)"
                    ),
                )
                raise ValidationError(
                    "Too many failed sign-ins for this username from your address. Try "
                    "again in %(minutes)s minutes, or ask an administrator.",
                    code="locked_out",
                    params={"minutes": minutes},
                )
        return super().clean()
