"""Nothing lost: intents that never got a result get an "unknown, check Zoom" one.

``do_force_logout`` commits its intent before calling Zoom. If the process dies during
the call (a deploy, an OOM kill, a crashed worker), the intent stays without a result;
``reconcile_unfinished_intents`` later adds one with outcome ``unknown``, linked to the
intent, so the log says plainly that nobody knows whether Zoom acted. It only ever
appends, and an intent that already has a result is left alone, so it can run as often
as wanted (cron, the task worker, by hand).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import router, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from zoomadmin.audit import chain
from zoomadmin.audit.log import record
from zoomadmin.audit.models import Action, AuditEvent, Outcome


def reconcile_age() -> timedelta:
    """How old an intent without a result must be before it is called unknown."""
    return timedelta(seconds=settings.AUDIT_RECONCILE_AFTER_SECONDS)


def unfinished_intents(cutoff: datetime) -> list[int]:
    """Ids of force-logout intents created before ``cutoff`` that have no result row.

    One query (the action index, then an anti-join on the intent link); only ids are
    held in memory, and there are few: each is an attempt whose process died.
    """
    has_result = AuditEvent.objects.filter(intent=OuterRef("pk"))
    pending = AuditEvent.objects.filter(
        action=Action.FORCE_LOGOUT_REQUESTED, created_at__lt=cutoff
    ).filter(~Exists(has_result))
    return list(pending.order_by("id").values_list("id", flat=True))


def reconcile_unfinished_intents(
    *, older_than: timedelta | None = None, now: datetime | None = None
) -> list[AuditEvent]:
    """Append an ``unknown`` result to every intent older than ``older_than`` without one.

    ``older_than`` defaults to ``settings.AUDIT_RECONCILE_AFTER_SECONDS``: longer than any
    Zoom call may take, so an attempt still in flight is not called unknown. Returns the
    rows it added. Idempotent and safe to run concurrently: each intent is re-checked
    under the audit append lock, in a short transaction of its own. Never deletes.

    This is the function a scheduler (the task worker, cron through
    ``manage.py audit_reconcile``) should call.
    """
    age = reconcile_age() if older_than is None else older_than
    cutoff = (now or timezone.now()) - age
    using = router.db_for_write(AuditEvent)
    added = []
    for intent_id in unfinished_intents(cutoff):
        with transaction.atomic(using=using):
            # Under the lock, so two reconcilers cannot both resolve the same intent.
            chain.lock(using=using)
            intent = AuditEvent.objects.using(using).get(pk=intent_id)
            if intent.results.exists():
                continue
            added.append(_record_unknown(intent, age))
    return added


def _age_text(age: timedelta) -> str:
    seconds = round(age.total_seconds())
    return f"{seconds} s" if seconds < 120 else f"{round(seconds / 60)} min"


def _record_unknown(intent: AuditEvent, age: timedelta) -> AuditEvent:
    return record(
        Action.FORCE_LOGOUT_RESULT,
        outcome=Outcome.UNKNOWN,
        target_zoom_id=intent.target_zoom_id,
        target_email=intent.target_email,
        reason=intent.reason,
        detail=(
            f"Outcome unknown, check Zoom: no result was recorded within {_age_text(age)} of "
            "the request (the process may have stopped during the Zoom call), so Zoom may "
            "or may not have revoked the token. Check the user in Zoom, or force the log "
            "out again: revoking twice does no harm. Added by audit_reconcile."
        ),
        intent=intent,
    )
