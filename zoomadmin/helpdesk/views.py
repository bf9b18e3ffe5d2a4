from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_POST

from zoomadmin.accounts.permissions import role_required
from zoomadmin.accounts.roles import CAN_FORCE_LOGOUT, has_any_role
from zoomadmin.audit.log import record_denied
from zoomadmin.audit.models import Action, AuditEvent
from zoomadmin.directory import search as directory_search
from zoomadmin.directory.results import ResultRow
from zoomadmin.directory.status import directory_status
from zoomadmin.directory.views import CAN_SYNC_DIRECTORY
from zoomadmin.helpdesk import actions
from zoomadmin.helpdesk.forms import ForceLogoutForm, SearchForm
from zoomadmin.helpdesk.targets import BadTarget, Problem, load_target
from zoomadmin.http import HtmxHttpRequest
from zoomadmin.zoom.ids import is_user_reference


def _wants_partial(request: HtmxHttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def _render(
    request: HtmxHttpRequest,
    template: str,
    partial: str,
    context: Mapping[str, object],
    status: int = 200,
) -> HttpResponse:
    """The whole page, or only its swappable part when htmx asked for it."""
    partial_only = _wants_partial(request)
    name = f"{template}#{partial}" if partial_only else template
    context = {**context, "full_page": not partial_only}
    return _no_store(TemplateResponse(request, name, context, status=status))


def _no_store(response: HttpResponse) -> HttpResponse:
    # Zoom users' details and outcomes must not linger in a shared browser's cache.
    add_never_cache_headers(response)
    response["Cache-Control"] = "no-store, private"
    return response


PAGE = "helpdesk/force_logout.html"


@dataclass(frozen=True)
class Found:
    """What a search found: the rows to show, and what Zoom and the directory said."""

    query: str
    rows: list[ResultRow]
    results: directory_search.Results
    lookup: actions.Lookup | None  # None: the query was not sent to Zoom

    @property
    def stale(self) -> bool:
        """Zoom failed: the rows are the directory's, as of the last sync."""
        return (
            self.lookup is not None and self.lookup.error is not None and not self.lookup.not_found
        )

    @property
    def others(self) -> int:
        return self.results.others

    @property
    def zoom_can_tell(self) -> bool:
        """An email or id the directory does not know, not asked at Zoom yet (typing)."""
        return self.lookup is None and is_user_reference(self.query)


RECENT_ACTIONS = (Action.SEARCH, Action.FORCE_LOGOUT_RESULT, Action.DENIED)
RECENT_COUNT = 10


@require_GET
@role_required(CAN_FORCE_LOGOUT)
def search(request: HtmxHttpRequest) -> HttpResponse:
    """The search page, and its results as the agent types (htmx swaps ``#results``).

    Searches the local directory on every request. Sends the query to Zoom (audited)
    only when it is an email address or a Zoom user ID and either the directory knows
    it exactly or the agent submitted it: typing towards an address calls Zoom once,
    when the address is complete, not for every "name@exam" on the way.
    """
    form = SearchForm(request.GET if "q" in request.GET else None)
    context: dict[str, object] = {"form": form}
    status = 200
    if form.is_bound and not form.is_valid():
        status = 400
    elif form.is_bound and form.cleaned_data["q"]:
        found = _find(form.cleaned_data["q"], request, submitted=not _typing(request))
        context["found"] = found
        if found.stale and not found.rows:
            status = 502
    else:
        context["recent"] = _recent_actions(request)
    if not _wants_partial(request):
        context["directory"] = directory_status()
        context["can_sync"] = has_any_role(request.user, CAN_SYNC_DIRECTORY)
    return _render(request, "helpdesk/search.html", "results", context, status)


def _typing(request: HtmxHttpRequest) -> bool:
    """True for the requests the search box sends as the agent types (its own trigger),
    False for a submitted search (Enter, the Search button, a plain GET)."""
    return bool(request.htmx) and request.htmx.trigger_name == "q"


def _find(query: str, request: HtmxHttpRequest, *, submitted: bool) -> Found:
    """The directory's matches, and Zoom's answer when the rule of ``search`` asks Zoom.

    One directory search, made after the lookup (which refreshed or retired the user's
    row); two while typing a reference the directory knows, since only the first
    search can tell that it does.
    """
    # Submitted: Zoom is asked for any reference, whatever the directory holds.
    results = None if submitted else directory_search.search(query)
    lookup = None
    if is_user_reference(query) and (results is None or _knows_exactly(results)):
        lookup = actions.look_up_user(query, request=request)
        results = None  # read before the lookup changed the row
    if results is None:
        results = directory_search.search(query)
    if lookup is None or lookup.user is None:
        rows = [ResultRow.from_directory(row) for row in results.users]
    else:
        fresh = ResultRow.from_zoom(lookup.user)
        others = (row for row in results.users if not fresh.same_user(row))
        rows = [fresh, *map(ResultRow.from_directory, others)]
    return Found(query=query, rows=rows, results=results, lookup=lookup)


def _knows_exactly(results: directory_search.Results) -> bool:
    """The directory has a user with exactly this email address or Zoom id."""
    return any(
        directory_search.rank_of(row) == directory_search.RANK_EXACT for row in results.users
    )


def _recent_actions(request: HtmxHttpRequest) -> list[AuditEvent]:
    """The agent's own last searches, force logouts and refusals, newest first."""
    return list(
        AuditEvent.objects.filter(actor_id=request.user.pk, action__in=RECENT_ACTIONS).order_by(
            "-id"
        )[:RECENT_COUNT]
    )


@require_GET
@role_required(CAN_FORCE_LOGOUT)
def force_logout_confirm(request: HtmxHttpRequest) -> HttpResponse:
    """The inline form that asks for a reason and a confirmation."""
    try:
        target = load_target(request.GET.get("target"))
    except BadTarget as bad:
        return _bad_target(request, bad)
    form = ForceLogoutForm(
        initial={"target": target.sign(), "submission_id": uuid.uuid4()},
    )
    return _render(request, PAGE, "confirm", {"form": form, "target": target})


@require_POST
@role_required(CAN_FORCE_LOGOUT)
def force_logout(request: HtmxHttpRequest) -> HttpResponse:
    form = ForceLogoutForm(request.POST)
    if not form.is_valid():
        if form.bad_target is not None:
            return _bad_target(request, form.bad_target)
        if "submission_id" in form.errors:
            return _bad_target(request, BadTarget(Problem.SUBMISSION_INVALID))
        context = {"form": form, "target": form.cleaned_data["target"]}
        return _render(request, PAGE, "confirm", context, status=400)
    target = form.cleaned_data["target"]
    try:
        result = actions.do_force_logout(
            target,
            reason=form.cleaned_data["reason"],
            submission_id=form.cleaned_data["submission_id"],
            request=request,
        )
    except actions.SubmissionMismatch:
        return _bad_target(request, BadTarget(Problem.SUBMISSION_REUSED))
    except actions.AuditUnavailable:
        context = {"target": target, "audit_unavailable": True}
        return _render(request, PAGE, "audit_unavailable", context, status=503)
    status = 200 if result.succeeded or result.duplicate else 502
    return _render(request, PAGE, "outcome", {"result": result}, status)


def _bad_target(request: HtmxHttpRequest, bad: BadTarget) -> HttpResponse:
    """Refuse a target that cannot be trusted: audited, and the page says why.

    An old result needs only a new search; a damaged or forged one is worth a look, so
    the audit row's detail keeps the two apart.
    """
    record_denied(request, bad.audit_detail)
    return _render(request, PAGE, "bad_target", {"bad_target": bad}, status=400)
