"""The Zoom connection page: administrators see its state and connect an OAuth app."""

from __future__ import annotations

import base64
import hashlib
import secrets

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_POST

from zoomadmin.accounts.permissions import role_required
from zoomadmin.accounts.roles import Role
from zoomadmin.audit.log import record
from zoomadmin.audit.models import Action, Outcome
from zoomadmin.http import HtmxHttpRequest
from zoomadmin.zoom import circuit, oauth, tokens
from zoomadmin.zoom.errors import ZoomError
from zoomadmin.zoom.models import ZoomCircuit

ADMINISTRATORS = frozenset({Role.ADMINISTRATOR})
_SESSION_KEY = "zoom_oauth_pending"


@require_GET
@role_required(ADMINISTRATORS)
def connection(request: HtmxHttpRequest) -> HttpResponse:
    health = ZoomCircuit.objects.filter(name=circuit.NAME).first()
    context = {
        "status": tokens.connection_status(),
        "health": health,
        "oauth_base_url": settings.ZOOM_OAUTH_BASE_URL,
        "api_base_url": settings.ZOOM_API_BASE_URL,
        "redirect_uri": _redirect_uri(request),
    }
    response = TemplateResponse(request, "zoom/connection.html", context)
    add_never_cache_headers(response)
    return response


@require_POST
@role_required(ADMINISTRATORS)
def connect(request: HtmxHttpRequest) -> HttpResponse:
    """Send the administrator to Zoom to approve the OAuth app (state + PKCE S256)."""
    if settings.ZOOM_AUTH_MODE != "oauth_app":
        messages.error(request, "Connecting in the browser is only for an OAuth app.")
        return redirect("zoom:connection")
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters: within PKCE's 43-128
    request.session[_SESSION_KEY] = {"state": state, "verifier": verifier}
    url = oauth.authorization_url(
        redirect_uri=_redirect_uri(request), state=state, code_challenge=_challenge(verifier)
    )
    return HttpResponseRedirect(url)


@require_GET
@role_required(ADMINISTRATORS)
def callback(request: HtmxHttpRequest) -> HttpResponse:
    """Zoom sends the administrator back here with a code (or an error) and our state."""
    pending = request.session.pop(_SESSION_KEY, None)
    state = request.GET.get("state", "")
    if not pending or not secrets.compare_digest(str(pending.get("state", "")), state):
        return _connect_failed(request, "the answer from Zoom did not match a connection we began")
    if error := request.GET.get("error"):
        return _connect_failed(request, f"Zoom said {error[:100]!r}")
    code = request.GET.get("code", "")
    if not code or len(code) > 2000:
        return _connect_failed(request, "Zoom sent no authorization code")
    try:
        grant = oauth.exchange_code(
            code=code, redirect_uri=_redirect_uri(request), code_verifier=pending["verifier"]
        )
    except ZoomError as failure:
        return _connect_failed(request, failure.explanation)
    tokens.store_authorization(grant, connected_by=request.user.get_username())
    record(
        Action.ZOOM_CONNECTED,
        request=request,
        outcome=Outcome.SUCCESS,
        detail=f"OAuth app connected; scopes: {grant.scope or 'none listed'}",
    )
    messages.success(request, "Zoom is connected.")
    return redirect("zoom:connection")


@require_POST
@role_required(ADMINISTRATORS)
def disconnect(request: HtmxHttpRequest) -> HttpResponse:
    """Revoke the stored grant at Zoom and forget it."""
    try:
        existed = tokens.disconnect()
    except ZoomError as failure:
        record(
            Action.ZOOM_DISCONNECTED,
            request=request,
            outcome=Outcome.FAILED,
            detail=f"tokens deleted here; revoking them at Zoom failed: {failure.explanation}",
        )
        messages.warning(
            request,
            "The dashboard forgot its Zoom tokens, but Zoom could not be told to revoke them: "
            f"{failure.agent_message}",
        )
        return redirect("zoom:connection")
    record(
        Action.ZOOM_DISCONNECTED,
        request=request,
        outcome=Outcome.SUCCESS,
        detail="tokens revoked at Zoom and deleted" if existed else "there were no tokens",
    )
    messages.success(
        request, "Zoom is disconnected." if existed else "There was nothing to disconnect."
    )
    return redirect("zoom:connection")


def _connect_failed(request: HtmxHttpRequest, why: str) -> HttpResponse:
    record(Action.ZOOM_CONNECTED, request=request, outcome=Outcome.FAILED, detail=why[:1000])
    messages.error(request, f"Zoom was not connected: {why}.")
    return redirect("zoom:connection")


def _redirect_uri(request: HtmxHttpRequest) -> str:
    # The Zoom app's allow list must hold exactly this URL (shown on the page).
    return request.build_absolute_uri(reverse("zoom:callback"))


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
