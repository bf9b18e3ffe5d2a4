from __future__ import annotations

import logging
from datetime import datetime

from django.contrib import messages
from django.db import DatabaseError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.tasks.exceptions import InvalidTask, InvalidTaskBackend
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_POST

from zoomadmin.accounts.permissions import role_required
from zoomadmin.accounts.roles import Role
from zoomadmin.audit.log import record
from zoomadmin.audit.models import Action, Outcome
from zoomadmin.directory.status import directory_status
from zoomadmin.directory.sync import STALE_AFTER, running_sync
from zoomadmin.directory.tasks import sync_directory
from zoomadmin.http import HtmxHttpRequest

logger = logging.getLogger(__name__)

# A sync costs Zoom's Medium quota, shared by every app of the account: managers decide.
CAN_SYNC_DIRECTORY = frozenset({Role.MANAGERS, Role.ADMINISTRATOR})
# What enqueue raises when the queue cannot take the task: the database backend could
# not write its row, or the backend is misconfigured or refuses the task. Anything else
# is a bug, and stays a 500.
_ENQUEUE_ERRORS = (DatabaseError, InvalidTask, InvalidTaskBackend)
NOT_QUEUED = (
    "The sync could not be queued, so it did not start. Try again in a few minutes; "
    "if it keeps failing, the dashboard's log says why."
)


@require_POST
@role_required(CAN_SYNC_DIRECTORY)
def sync_now(request: HtmxHttpRequest) -> HttpResponse:
    """Enqueue a directory sync (the worker runs it), unless one is already running.

    Audited either way, a sync that could not be queued too (503); a refusal is
    audited by ``role_required``.
    """
    running = running_sync()
    status = 200
    if running is not None and not _stale(running.heartbeat_at):
        outcome, message = Outcome.FAILED, "A sync is already running."
    elif _enqueue(request):
        outcome = Outcome.SUCCESS
        message = "Sync started: the worker pages through Zoom's users in the background."
    else:
        outcome, message, status = Outcome.FAILED, NOT_QUEUED, 503
    record(Action.DIRECTORY_SYNC, request=request, outcome=outcome, detail=message)
    not_queued = status == 503
    if not request.htmx:
        if not_queued:
            # The reloaded page is the only place left to say so.
            messages.error(request, message)
        return redirect("helpdesk:search")
    context = {
        "directory": directory_status(),
        "can_sync": True,
        "sync_message": message,
        "sync_not_queued": not_queued,
    }
    return TemplateResponse(
        request, "helpdesk/search.html#directory_status", context, status=status
    )


def _enqueue(request: HtmxHttpRequest) -> bool:
    """Queue a manual sync; False (logged with its traceback) if the queue refused it."""
    try:
        sync_directory.enqueue(trigger="manual", requested_by=request.user.get_username())
    except _ENQUEUE_ERRORS:
        logger.exception("manual directory sync could not be queued")
        return False
    return True


def _stale(heartbeat: datetime) -> bool:
    return heartbeat < timezone.now() - STALE_AFTER
