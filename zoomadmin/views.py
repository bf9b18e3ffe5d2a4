from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from zoomadmin.audit.log import record_denied


@require_GET
@never_cache
@login_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the app and its database answer, 503 otherwise. No details leak out."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 403 handler: whoever raised PermissionDenied (the admin, say), it is audited."""
    record_denied(request, "permission denied")
    return TemplateResponse(request, "403.html", status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A stale page (signing in rotates the token) makes htmx reload instead of failing.

    Ordinary form posts get a page that says what happened and what to do. Either way
    the refusal is audited: a cross-site POST is worth knowing about.
    """
    record_denied(request, f"CSRF check failed: {reason}")
    response = TemplateResponse(request, "errors/csrf.html", status=403)
    if request.headers.get("HX-Request") == "true":
        response["HX-Refresh"] = "true"
    return response
