from __future__ import annotations

from django.http import HttpRequest

from zoomadmin.accounts.roles import CAN_FORCE_LOGOUT, CAN_REVIEW_AUDIT, Role, roles_of


def roles(request: HttpRequest) -> dict[str, object]:
    """What the navigation may offer this user."""
    user_roles = roles_of(request.user) if hasattr(request, "user") else frozenset()
    return {
        "can_force_logout": bool(user_roles & CAN_FORCE_LOGOUT),
        "can_review_audit": bool(user_roles & CAN_REVIEW_AUDIT),
        "is_administrator": Role.ADMINISTRATOR in user_roles,
        "user_roles": sorted(user_roles),
    }
