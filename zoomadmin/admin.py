from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest


class SuperuserAdminSite(admin.AdminSite):
    """The admin is for administrators only: superusers (INTERFACE.md, "Roles")."""

    site_header = "zoomadmin administration"
    site_title = "zoomadmin admin"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and getattr(user, "is_superuser", False))
