"""Sign-in throttling: after too many failed sign-ins for one username from one address,
that username waits before it may try again from there.

Counted from the audit log, which records every failed sign-in anyway, so there is no
second store to keep and a lockout is evidence like everything else. Keyed on the
username *and* the address (SECURITY.md): one attacker behind an office's shared
address does not lock the office out, and the account can still be used from
elsewhere. The lock lifts by itself, ``SIGN_IN_LOCKOUT_MINUTES`` after the last
failure; refused attempts do not count, so they do not extend it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from zoomadmin.audit.models import Action, AuditEvent, Outcome


def locked_until(
    username: str, address: str | None, *, now: datetime | None = None
) -> datetime | None:
    """When ``username`` may try again from ``address``; None when it may now.

    One indexed query over the last ``SIGN_IN_MAX_FAILURES`` sign-ins and failures of
    this username from this address within the lockout period; a successful sign-in
    starts the count again.
    """
    limit: int = settings.SIGN_IN_MAX_FAILURES
    period = timedelta(minutes=settings.SIGN_IN_LOCKOUT_MINUTES)
    now = now or timezone.now()
    attempts = (
        AuditEvent.objects.filter(
            actor_username__iexact=username,
            client_ip=address,
            created_at__gte=now - period,
            created_at__lte=now,
            action__in=[Action.SIGN_IN, Action.SIGN_IN_FAILED],
            outcome__in=[Outcome.SUCCESS, Outcome.FAILED],
        )
        .order_by("-created_at", "-id")
        .values_list("action", "created_at")[:limit]
    )
    failures = []
    for action, at in attempts:
        if action == Action.SIGN_IN:
            break
        failures.append(at)
    if len(failures) < limit:
        return None
    return failures[0] + period
