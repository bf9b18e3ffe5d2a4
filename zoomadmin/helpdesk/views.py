from __future__ import annotations

import uuid
from collections.abc import Mapping

from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_POST

from zoomadmin.accounts.permissions import role_required
from zoomadmin.accounts.roles import CAN_FORCE_LOGOUT
from zoomadmin.audit.log import record_denied
from zoomadmin.helpdesk import actions
from zoomadmin.helpdesk.forms import ForceLogoutForm, SearchForm
from zoomadmin.helpdesk.targets import BadTarget, Target, load_target
from zoomadmin.http import HtmxHttpRequest


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


@require_GET
@role_required(CAN_FORCE_LOGOUT)
def search(request: HtmxHttpRequest) -> HttpResponse:
    form = SearchForm(request.GET if "q" in request.GET else None)
    lookup = None
    status = 200
    if form.is_bound:
        if form.is_valid():
            lookup = actions.look_up_user(form.cleaned_data["q"], request=request)
            if lookup.error is not None and not lookup.not_found:
                status = 502
        else:
            status = 400
    target = Target.from_user(lookup.user) if lookup and lookup.user else None
    context = {"form": form, "lookup": lookup, "target": target}
    return _render(request, "helpdesk/search.html", "results", context, status)


@require_GET
@role_required(CAN_FORCE_LOGOUT)
def force_logout_confirm(request: HtmxHttpRequest) -> HttpResponse:
    """The inline form that asks for a reason and a confirmation."""
    try:
        target = load_target(request.GET.get("target"))
    except BadTarget:
        return _bad_target(request)
    form = ForceLogoutForm(
        initial={"target": target.sign(), "submission_id": uuid.uuid4()},
    )
    return _render(request, PAGE, "confirm", {"form": form, "target": target})


@require_POST
@role_required(CAN_FORCE_LOGOUT)
def force_logout(request: HtmxHttpRequest) -> HttpResponse:
    form = ForceLogoutForm(request.POST)
    if not form.is_valid():
        if "target" in form.errors or "submission_id" in form.errors:
            return _bad_target(request)
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
        record_denied(request, "confirmation form reused for another Zoom user")
        return _bad_target(request)
    except actions.AuditUnavailable:
        context = {"target": target, "audit_unavailable": True}
        return _render(request, PAGE, "audit_unavailable", context, status=503)
    status = 200 if result.succeeded or result.duplicate else 502
    return _render(request, PAGE, "outcome", {"result": result}, status)


def _bad_target(request: HtmxHttpRequest) -> HttpResponse:
    return _render(request, PAGE, "bad_target", {}, status=400)
