"""Staff roles: two Django groups plus superusers (INTERFACE.md, "Roles")."""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, User


class Role(StrEnum):
    HELPDESK = "Helpdesk"
    MANAGERS = "Managers"
    ADMINISTRATOR = "Administrator"  # a superuser, not a group


GROUP_ROLES = (Role.HELPDESK, Role.MANAGERS)

# Who may do what. Superusers administer the tool, so they may do everything.
CAN_FORCE_LOGOUT = frozenset({Role.HELPDESK, Role.MANAGERS, Role.ADMINISTRATOR})
CAN_REVIEW_AUDIT = frozenset({Role.MANAGERS, Role.ADMINISTRATOR})

_CACHE_ATTRIBUTE = "_zoomadmin_roles"


def roles_of(user: AbstractBaseUser | AnonymousUser) -> frozenset[Role]:
    """The roles of a signed-in, active user (empty for anyone else). Cached per object."""
    if not isinstance(user, User) or not user.is_active:
        return frozenset()
    cached: frozenset[Role] | None = getattr(user, _CACHE_ATTRIBUTE, None)
    if cached is not None:
        return cached
    names = set(user.groups.values_list("name", flat=True))
    roles = {role for role in GROUP_ROLES if role.value in names}
    if user.is_superuser:
        roles.add(Role.ADMINISTRATOR)
    result = frozenset(roles)
    setattr(user, _CACHE_ATTRIBUTE, result)
    return result


def has_any_role(user: AbstractBaseUser | AnonymousUser, allowed: frozenset[Role]) -> bool:
    return bool(roles_of(user) & allowed)
