"""The audit review: the log page, one event's page, and the streamed exports."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connections
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET

from zoomadmin.accounts.permissions import role_required
from zoomadmin.accounts.roles import CAN_REVIEW_AUDIT
from zoomadmin.audit import chain
from zoomadmin.audit.exports import CONTENT_TYPES, Format, chunks, export_rows, read_snapshot
from zoomadmin.audit.filters import AuditFilterForm
from zoomadmin.audit.log import record
from zoomadmin.audit.models import Action, AuditEvent, Outcome
from zoomadmin.audit.paging import NEWEST_FIRST, page_of

PAGE_SIZE = 50
# The summary strip counts at most this many of the newest matching rows. An exact count
# over a million-row filter costs a scan of every matching row on each page view (on
# PostgreSQL, 100 ms and more); the newest 10,000 are one short index range read, and
# the strip says when it stopped there.
SUMMARY_CAP = 10_000


def _cursor(request: HttpRequest, name: str) -> int | None:
    raw = request.GET.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


@dataclass(frozen=True)
class Summary:
    """Counts by action and by outcome of a filtered set (or of its newest SUMMARY_CAP)."""

    total: int
    capped: bool
    by_action: list[tuple[str, int]]
    by_outcome: list[tuple[str, int]]


def summarize(events: QuerySet[AuditEvent]) -> Summary:
    """Count ``events`` by action and outcome, over at most their newest SUMMARY_CAP rows.

    Two queries, each reading at most SUMMARY_CAP + 1 entries of the index the page is
    read from (on PostgreSQL an index-only scan: the indexes carry action and outcome).
    The database does the counting, so a dozen rows come back, not ten thousand.
    """
    newest = events.order_by(*NEWEST_FIRST)
    capped = bool(newest.values_list("id", flat=True)[SUMMARY_CAP : SUMMARY_CAP + 1])
    # GROUP BY over a LIMIT needs a subquery, which the ORM cannot aggregate over; the
    # inner query is the ORM's own, with its parameters, so nothing is pasted into SQL.
    inner, params = newest.values_list("action", "outcome")[:SUMMARY_CAP].query.sql_with_params()
    connection = connections[events.db]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT newest.action, newest.outcome, COUNT(*) "  # noqa: S608 - the ORM's SQL
            f"FROM ({inner}) AS newest GROUP BY newest.action, newest.outcome",
            params,
        )
        groups = cursor.fetchall()
    actions: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    for action, outcome, count in groups:
        actions[action] += count
        if outcome:
            outcomes[outcome] += count
    return Summary(
        total=sum(actions.values()),
        capped=capped,
        by_action=_largest_first(actions, dict(Action.choices)),
        by_outcome=_largest_first(outcomes, dict(Outcome.choices)),
    )


def _largest_first(counts: Counter[str], labels: dict[str, str]) -> list[tuple[str, int]]:
    labelled = [(labels.get(value, value), count) for value, count in counts.items()]
    return sorted(labelled, key=lambda item: (-item[1], item[0]))


@require_GET
@role_required(CAN_REVIEW_AUDIT)
def audit_log(request: HttpRequest) -> HttpResponse:
    """Newest first, keyset-paginated (paging.py) so pages stay right while rows arrive."""
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        context = {"form": form, "events": [], "filter_query": ""}
        return TemplateResponse(request, "audit/log.html", context, status=400)

    filtered = form.apply(AuditEvent.objects.all())
    events = filtered.prefetch_related(
        Prefetch("results", queryset=AuditEvent.objects.order_by("id"))
    )
    page = page_of(
        events,
        filtered,
        before=_cursor(request, "before"),
        after=_cursor(request, "after"),
        size=PAGE_SIZE,
    )
    filter_query = form.query_string()
    context = {
        "form": form,
        "events": page.rows,
        "filter_query": filter_query,
        "newer_query": _page_query(filter_query, "after", page.newer) if page.newer else "",
        "older_query": _page_query(filter_query, "before", page.older) if page.older else "",
        "is_filtered": bool(filter_query),
        "summary": summarize(filtered),
        "summary_cap": SUMMARY_CAP,
    }
    return TemplateResponse(request, "audit/log.html", context)


def _page_query(filter_query: str, cursor: str, value: int) -> str:
    return f"{filter_query}&{cursor}={value}" if filter_query else f"{cursor}={value}"


@require_GET
@role_required(CAN_REVIEW_AUDIT)
def event_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    """One event with every field, its intent or its results, and its place in the chain.

    Also re-checks this row: its hash against its content, its link to the row before.
    """
    try:
        event = AuditEvent.objects.select_related("actor", "intent").get(pk=event_id)
    except AuditEvent.DoesNotExist:
        raise Http404("no such audit event") from None
    previous = AuditEvent.objects.filter(seq=event.seq - 1).only("id", "seq", "row_hash").first()
    following = AuditEvent.objects.filter(seq=event.seq + 1).only("id", "seq").first()
    expected_prev = previous.row_hash if previous else chain.GENESIS_HASH
    context = {
        "event": event,
        "results": list(event.results.order_by("id")),
        "previous": previous,
        "following": following,
        "hash_matches": chain.row_digest(event.__dict__) == event.row_hash,
        "link_matches": event.prev_hash == expected_prev
        and (previous is not None or event.seq == 1),
        "canonical_created_at": chain.canonical_time(event.created_at),
    }
    return TemplateResponse(request, "audit/event.html", context)


@require_GET
@role_required(CAN_REVIEW_AUDIT)
def export_csv(request: HttpRequest) -> HttpResponseBase:
    return _export(request, "csv")


@require_GET
@role_required(CAN_REVIEW_AUDIT)
def export_jsonl(request: HttpRequest) -> HttpResponseBase:
    return _export(request, "jsonl")


def _export(request: HttpRequest, fmt: Format) -> HttpResponseBase:
    """Stream the filtered rows, oldest first, up to the head at the time of the request.

    Writes one audit row (who exported which filter) before the first byte; the file
    then holds every matching row with seq up to the one before that row. Constant
    memory: rows are fetched CHUNK_ROWS at a time and written out in large pieces.
    """
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponse("Fix the filter: " + form.errors.as_text(), status=400)
    head = chain.read_head(AuditEvent)
    filters = form.query_string() or "none (the whole log)"
    record(
        Action.EXPORT,
        request=request,
        outcome=Outcome.SUCCESS,
        detail=f"{fmt} export; filter: {filters}; rows up to seq {head.seq}",
    )
    events = form.apply(AuditEvent.objects.filter(seq__lte=head.seq))
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response = StreamingHttpResponse(_stream(events, fmt), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = (
        f'attachment; filename="audit-{stamp}-to-seq-{head.seq}.{fmt}"'
    )
    add_never_cache_headers(response)
    response["Cache-Control"] = "no-store, private"
    return response


def _stream(events: QuerySet[AuditEvent], fmt: Format) -> Iterator[bytes]:
    with read_snapshot():
        for chunk in chunks(export_rows(events), fmt):
            yield chunk.encode("utf-8")
