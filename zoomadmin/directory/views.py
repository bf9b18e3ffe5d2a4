from __future__ import annotations

from datetime import datetime

from django.http import HttpResponse
from django.shortcuts import redirect
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

# A sync costs Zoom's Medium quota, shared by every app of the account: managers decide.
CAN_SYNC_DIRECTORY = frozenset({Role.MANAGERS, Role.ADMINISTRATOR})


@require_POST
@role_required(CAN_SYNC_DIRECTORY)
def sync_now(request: HtmxHttpRequest) -> HttpResponse:
    """Enqueue a directory sync (the worker runs it), unless one is already running.

    Audited either way; a refusal is audited by ``role_required``.
    """
    running = running_sync()
    if running is not None and not _stale(running.heartbeat_at):
        outcome, message = Outcome.FAILED, "A sync is already running."
    else:
        sync_directory.enqueue(trigger="manual", requested_by=request.user.get_username())
        outcome = Outcome.SUCCESS
        message = "Sync started: the worker pages through Zoom's users in the background."
    record(Action.DIRECTORY_SYNC, request=request, outcome=outcome, detail=message)
    if not request.htmx:
        return redirect("helpdesk:search")
    context = {"directory": directory_status(), "can_sync": True, "sync_message": message}
    return TemplateResponse(request, "helpdesk/search.html#directory_status", context)


def _stale(heartbeat: datetime) -> bool:
    return heartbeat < timezone.now() - STALE_AFTER
