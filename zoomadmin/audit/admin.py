from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from zoomadmin.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: the admin may look, never add, change or delete."""

    list_display = (
        "id",
        "seq",
        "created_at",
        "actor_username",
        "action",
        "outcome",
        "target_email",
        "zoom_status",
        "zoom_error_code",
    )
    list_filter = ("action", "outcome")
    search_fields = ("actor_username", "target_email", "target_zoom_id", "request_id")
    date_hierarchy = "created_at"
    list_select_related = False

    def get_readonly_fields(self, request: HttpRequest, obj: AuditEvent | None = None) -> list[str]:
        return [field.name for field in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False
