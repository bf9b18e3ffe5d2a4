"""The one permission check every staff view goes through."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.http import HttpResponseBase
from django.template.response import TemplateResponse

from zoomadmin.accounts.roles import Role, has_any_role, roles_of
from zoomadmin.audit.log import record_denied
from zoomadmin.http import HtmxHttpRequest

View = Callable[..., HttpResponseBase]


def role_required(allowed: frozenset[Role]) -> Callable[[View], View]:
    """Refuse users without one of ``allowed`` roles: 403, audited, nothing else runs.

    A user with no role at all gets the page that says so; a user whose role does not
    cover this page gets a plain refusal. HTMX requests get the same message as a
    fragment, so it appears where the agent clicked (a whole page swapped into a
    results table would bring a second header and menu with it).
    """

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HtmxHttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
            if has_any_role(request.user, allowed):
                return view(request, *args, **kwargs)
            if not roles_of(request.user):
                record_denied(request, "no role")
                page = "accounts/no_role.html#refused" if request.htmx else "accounts/no_role.html"
                return TemplateResponse(request, page, status=403)
            needed = " or ".join(sorted(role.value for role in allowed))
            record_denied(request, f"needs {needed}")
            template = "errors/_refused.html" if request.htmx else "403.html"
            return TemplateResponse(request, template, {"needed": needed}, status=403)

        return wrapper

    return decorator
