"""The audit page's filters: a plain GET form whose fields are the URL's query.

The same form narrows the page, its summary strip and the exports, so a shared link,
the counts above the table and a downloaded file always describe the same rows.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from zoomadmin.audit.models import Action, AuditEvent, Outcome


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=150, label="Staff member")
    target = forms.CharField(required=False, max_length=254, label="Zoom user (email or id)")
    action = forms.ChoiceField(
        required=False, choices=[("", "Any action"), *Action.choices], label="Action"
    )
    outcome = forms.ChoiceField(
        required=False,
        choices=[("", "Any outcome"), *[c for c in Outcome.choices if c[0]]],
        label="Outcome",
    )
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(required=False, max_length=200, label="Reason contains")
    request_id = forms.CharField(required=False, max_length=64, label="Request id")

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("“From” must be on or before “To”.")
        return cleaned

    def apply(self, events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        """Narrow ``events`` to the filter. Call only after ``is_valid()``."""
        data = self.cleaned_data
        if data.get("actor"):
            events = events.filter(actor_username__iexact=data["actor"])
        if data.get("target"):
            target = data["target"]
            # A Zoom id never holds an "@" and an email always does: compare one column,
            # so the lookup is one index range scan instead of an OR of two.
            if "@" in target:
                events = events.filter(target_email__iexact=target)
            else:
                events = events.filter(target_zoom_id=target)
        if data.get("action"):
            events = events.filter(action=data["action"])
        if data.get("outcome"):
            events = events.filter(outcome=data["outcome"])
        events = created_on_days(events, data.get("date_from"), data.get("date_to"))
        if data.get("reason"):
            events = events.filter(reason__icontains=data["reason"])
        if data.get("request_id"):
            events = events.filter(request_id=data["request_id"])
        return events

    def active(self) -> dict[str, str]:
        """The filters in use, as they appear in the URL. Call only after ``is_valid()``."""
        return {
            name: value.isoformat() if isinstance(value, date) else str(value)
            for name, value in self.cleaned_data.items()
            if value not in ("", None)
        }

    def query_string(self) -> str:
        """``active()`` as a URL query (no leading "?"), for links that keep the filter."""
        return urlencode(self.active())


def created_on_days(
    events: QuerySet[AuditEvent], first: date | None, last: date | None
) -> QuerySet[AuditEvent]:
    """Narrow ``events`` to those created from day ``first`` through day ``last``, both
    whole days in the current time zone; either end may be left open (None).

    The one reading of a date range: the review page, its exports and ``audit_archive``
    must agree on which rows a day holds.
    """
    if first is not None:
        events = events.filter(created_at__gte=_start_of(first))
    if last is not None:
        events = events.filter(created_at__lt=_start_of(last + timedelta(days=1)))
    return events


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())
