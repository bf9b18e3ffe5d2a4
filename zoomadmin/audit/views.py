from __future__ import annotations

from urllib.parse import urlencode

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from zoomadmin.accounts.permissions import role_required
from zoomadmin.accounts.roles import CAN_REVIEW_AUDIT
from zoomadmin.audit.filters import AuditFilterForm
from zoomadmin.audit.models import AuditEvent

PAGE_SIZE = 50


def _cursor(request: HttpRequest, name: str) -> int | None:
    raw = request.GET.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


@require_GET
@role_required(CAN_REVIEW_AUDIT)
def audit_log(request: HttpRequest) -> HttpResponse:
    """Newest first, keyset-paginated on the id so pages stay right while rows arrive."""
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        context = {"form": form, "events": [], "filter_query": ""}
        return TemplateResponse(request, "audit/log.html", context, status=400)

    events = form.apply(AuditEvent.objects.all()).prefetch_related(
        Prefetch("results", queryset=AuditEvent.objects.order_by("id"))
    )
    before, after = _cursor(request, "before"), _cursor(request, "after")
    if after is not None:
        rows = list(events.filter(id__gt=after).order_by("id")[: PAGE_SIZE + 1])[:PAGE_SIZE]
        rows.reverse()
    else:
        older = events.filter(id__lt=before) if before is not None else events
        rows = list(older.order_by("-id")[:PAGE_SIZE])
    has_newer = bool(rows) and events.filter(id__gt=rows[0].id).exists()
    has_older = bool(rows) and events.filter(id__lt=rows[-1].id).exists()

    filters = {k: v for k, v in form.cleaned_data.items() if v not in ("", None)}
    filter_query = urlencode({k: str(v) for k, v in filters.items()})
    context = {
        "form": form,
        "events": rows,
        "filter_query": filter_query,
        "newer_query": _page_query(filter_query, "after", rows[0].id) if has_newer else "",
        "older_query": _page_query(filter_query, "before", rows[-1].id) if has_older else "",
        "is_filtered": bool(filters),
    }
    return TemplateResponse(request, "audit/log.html", context)


def _page_query(filter_query: str, cursor: str, value: int) -> str:
    return f"{filter_query}&{cursor}={value}" if filter_query else f"{cursor}={value}"
